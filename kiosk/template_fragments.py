"""Parts of a page that are the same for everyone who reads it in one language, drawn once.

``{% remembered "home-tiles", current_locale %}…{% endremembered %}`` draws its body the
first time a key (the name and every value after it) is asked for, and hands the same markup
back after. The kiosk home's four service tiles and its two buttons were about a tenth of
the page's CPU (icons, links and eight translated strings, docs/benchmarks.md) and depend on
the language alone. The key must name everything the body reads: a body with a resident's
name, a CSRF token or a flash message in it is not for this tag. While templates reload
(debug), every call draws, so an edited template shows at once.

This is the fragment cache of Jinja's own extension example
(https://jinja.palletsprojects.com/en/stable/extensions/#example-extension), kept in a
bounded dict of this process instead of a cache server: the fragments are a few kilobytes
and never change while the process runs.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from flask import Flask
from jinja2 import Environment, nodes
from jinja2.ext import Extension
from jinja2.parser import Parser
from markupsafe import Markup

# Keys come from templates, data (an icon's name) and the languages a screen can choose:
# keep each table bounded.
MAX_REMEMBERED = 256


class RememberedMarkup:
    """Markup drawn once per key and handed out after (this tag's and kiosk.template_icons');
    drawn every time while ``environment`` reloads templates."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.drawn: dict[Hashable, Markup] = {}

    def get(self, key: Hashable, draw: Callable[[], Markup]) -> Markup:
        found = self.drawn.get(key)
        if found is None:
            found = draw()
            if not self.environment.auto_reload:
                if len(self.drawn) >= MAX_REMEMBERED:
                    self.drawn.clear()
                self.drawn[key] = found
        return found


class RememberedFragments(Extension):
    tags = {"remembered"}

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.remembered = RememberedMarkup(environment)

    def parse(self, parser: Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        key = [parser.parse_expression()]
        while parser.stream.skip_if("comma"):
            key.append(parser.parse_expression())
        body = parser.parse_statements(("name:endremembered",), drop_needle=True)
        call = self.call_method("_remembered", [nodes.Tuple(key, "load")])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _remembered(self, key: tuple[Any, ...], caller: Callable[[], str]) -> Markup:
        return self.remembered.get(key, lambda: Markup(caller()))


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension(RememberedFragments)
