"""Remembered fragments (kiosk.template_fragments): ``{% remembered key, … %}`` draws its body
once per key and hands the same markup out after, and draws every time while templates
reload. (That the kiosk home's tiles, one such fragment, still change with the language is
tests/kiosk/test_kiosk_language.py's.)"""

from __future__ import annotations

from flask import Flask, render_template_string

COUNTED = "{% remembered 'counted', key %}{{ count.append(1) or count|length }}{% endremembered %}"


def test_a_fragment_is_drawn_once_for_each_key(app: Flask) -> None:
    count: list[int] = []
    with app.test_request_context("/kiosk/"):
        drawn = [render_template_string(COUNTED, key=key, count=count) for key in "aab"]
        again = render_template_string(COUNTED, key="a", count=count)
    assert drawn == ["1", "1", "2"]
    assert again == "1"
    assert len(count) == 2


def test_a_fragment_keeps_its_escaping(app: Flask) -> None:
    body = "{% remembered 'escaped' %}{{ text }}{% endremembered %}"
    with app.test_request_context("/kiosk/"):
        first = render_template_string(body, text="<script>")
        again = render_template_string(body, text="ignored once remembered")
    assert first == again == "&lt;script&gt;"


def test_while_templates_reload_every_fragment_is_drawn_again(app: Flask) -> None:
    app.jinja_env.auto_reload = True
    count: list[int] = []
    with app.test_request_context("/kiosk/"):
        drawn = [render_template_string(COUNTED, key="a", count=count) for _ in range(2)]
    assert drawn == ["1", "2"]
