"""Templates' ``url_for`` (kiosk.template_urls): the same addresses as Flask's, with the ones
that cannot change built once per script root, and everything else built every time."""

from __future__ import annotations

from flask import Flask, render_template_string, url_for

from kiosk import template_urls
from kiosk.template_urls import template_url_for


def remembered(app: Flask) -> dict[tuple[str, str, str | None], str]:
    found: dict[tuple[str, str, str | None], str] = app.extensions.get(template_urls._KEY, {})
    return found


def test_templates_use_it(app: Flask) -> None:
    assert app.jinja_env.globals["url_for"] is template_url_for


def test_fixed_addresses_are_flasks_and_are_kept(app: Flask) -> None:
    with app.test_request_context("/kiosk/"):
        assert template_url_for("touch.home") == url_for("touch.home")
        assert template_url_for("static", filename="touch/kiosk.css") == url_for(
            "static", filename="touch/kiosk.css"
        )
        assert set(remembered(app)) == {
            ("", "touch.home", None), ("", "static", "touch/kiosk.css"),
        }  # fmt: skip


def test_a_script_root_gets_its_own_addresses(app: Flask) -> None:
    with app.test_request_context("/kiosk/"):
        plain = template_url_for("touch.home")
    with app.test_request_context("/kiosk/", environ_overrides={"SCRIPT_NAME": "/linli"}):
        assert template_url_for("touch.home") == "/linli" + plain == url_for("touch.home")


def test_addresses_with_arguments_are_built_every_time(app: Flask) -> None:
    with app.test_request_context("/staff/"):
        assert template_url_for("staff.account_grant_site", staff_id=7) == url_for(
            "staff.account_grant_site", staff_id=7
        )
        assert template_url_for("touch.home", _external=True).startswith("http://")
        assert template_url_for("static", filename="x.css", v=2) == url_for(
            "static", filename="x.css", v=2
        )
    assert remembered(app) == {}


def test_what_is_kept_is_bounded(app: Flask) -> None:
    for n in range(template_urls.MAX_REMEMBERED + 5):
        with app.test_request_context("/", environ_overrides={"SCRIPT_NAME": f"/p{n}"}):
            template_url_for("touch.home")
    assert len(remembered(app)) <= template_urls.MAX_REMEMBERED


def test_a_page_rendered_in_a_request_gets_the_same_addresses_bound_to_it(app: Flask) -> None:
    page = "{{ url_for('touch.home') }} {{ url_for('static', filename='touch/kiosk.css') }}"
    with app.test_request_context("/kiosk/", environ_overrides={"SCRIPT_NAME": "/linli"}):
        assert render_template_string(page) == (
            f"{url_for('touch.home')} {url_for('static', filename='touch/kiosk.css')}"
        )
        assert render_template_string("{{ url_for('.home') }}") == url_for("touch.home")
    assert ("/linli", "touch.home", None) in remembered(app)
