"""Icons (kiosk.template_icons): ``icon`` from touch/icons.html gives what its macro draws,
drawn once per name and handed out after, and drawn every time while templates reload."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask, render_template_string

ICONS_HTML = Path(__file__).resolve().parents[2] / "kiosk/templates/touch/icons.html"
ICONS = sorted(set(re.findall(r'name == "([a-z]+)"', ICONS_HTML.read_text())))
USE = '{% from "touch/icons.html" import icon %}{{ icon(name) }}'


def drawn_by_the_macro(app: Flask, name: str) -> str:
    with app.test_request_context("/kiosk/"):
        return render_template_string(
            '{% from "touch/icons.html" import draw_icon %}{{ draw_icon(name) }}', name=name
        )


@pytest.mark.parametrize("name", [*ICONS, "no-such-icon", '"><script>'])
def test_each_icon_is_what_the_macro_draws(app: Flask, name: str) -> None:
    with app.test_request_context("/kiosk/"):
        first = render_template_string(USE, name=name)
        again = render_template_string(USE, name=name)
    assert first == again == drawn_by_the_macro(app, name)
    assert "<svg" in first and "<script>" not in first


def drawings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the icons drawn from now on."""
    from kiosk import template_icons

    drawn: list[str] = []
    draw = template_icons._draw
    monkeypatch.setattr(
        template_icons,
        "_draw",
        lambda env, name, label: drawn.append(name) or draw(env, name, label),
    )
    return drawn


def test_an_icon_is_drawn_once(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = drawings(monkeypatch)
    with app.test_request_context("/kiosk/"):
        for _ in range(3):
            render_template_string(USE, name="globe")
    assert drawn == ["globe"]


def test_while_templates_reload_every_icon_is_drawn_again(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = drawings(monkeypatch)
    app.jinja_env.auto_reload = True
    with app.test_request_context("/kiosk/"):
        for _ in range(2):
            render_template_string(USE, name="home")
    assert drawn == ["home", "home"]
