"""The kiosk's line icons, each drawn once and then handed out as it was drawn.

``touch/icons.html`` draws an icon with a macro (``draw_icon``) whose markup depends on the
icon's name alone. A kiosk home shows 14, and calling the macro for each was about 4 µs an
icon, 55 µs of the page's 1 ms (docs/benchmarks.md). The template exports ``icon`` as this
app's :func:`remembered_icon`: the macro draws a name the first time it is asked for, and the
same markup is handed back after. While templates reload (debug), every call draws, so an
edited icon shows at once.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from jinja2 import Environment, pass_environment
from markupsafe import Markup

from kiosk.template_fragments import RememberedMarkup

ICONS_TEMPLATE = "touch/icons.html"


def init_app(app: Flask) -> None:
    app.jinja_env.globals["remembered_icon"] = _remembering(app.jinja_env)


def _remembering(environment: Environment) -> Callable[..., Markup]:
    remembered = RememberedMarkup(environment)

    @pass_environment
    def remembered_icon(env: Environment, name: str, label: str = "") -> Markup:
        return remembered.get((name, label), lambda: _draw(env, name, label))

    return remembered_icon


def _draw(env: Environment, name: str, label: str) -> Markup:
    draw_icon = env.get_template(ICONS_TEMPLATE).module.draw_icon  # type: ignore[attr-defined]
    markup: Markup = draw_icon(name, label)
    return markup
