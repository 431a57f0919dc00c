"""Every response, kiosk, console, API or error, carries the same protective headers: our own
scripts only, no plugin, no <base>, no framing, no sniffing, the Referer kept within Linli;
and nothing but the static files may be kept by a browser or a proxy."""

from __future__ import annotations

import pytest
from flask import Response
from flask.testing import FlaskClient

from tests.conftest import StaffActions

PAGES = {
    "kiosk home": "/kiosk/",
    "kiosk sign-in": "/kiosk/sign-in",
    "console sign-in": "/staff/sign-in",
    "console overview": "/staff/",
    "console residents": "/staff/residents",
    "console device board": "/staff/devices",
    "API availability": "/api/v1/spaces",
    "API residents": "/api/v1/residents?q=13",
    "API health": "/api/v1/health",
    "OpenAPI document": "/api/openapi.json",
    "a page that is not there": "/nowhere",
    "a console page that is not there": "/staff/no-such-page",
}


def _directives(policy: str) -> dict[str, str]:
    return {
        name: value.strip()
        for name, _sep, value in (part.strip().partition(" ") for part in policy.split(";"))
    }


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_every_response_forbids_inline_script_plugins_base_and_framing(
    client: FlaskClient, staff_auth: StaffActions, demo: None, path: str
) -> None:
    staff_auth.sign_in()
    response = client.get(path)
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy["script-src"] + policy["default-src"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_no_response_with_personal_data_may_be_stored(
    client: FlaskClient, staff_auth: StaffActions, demo: None, path: str
) -> None:
    staff_auth.sign_in()
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_a_signed_in_api_answer_with_residents_is_not_stored(
    client: FlaskClient, staff_auth: StaffActions, demo: None
) -> None:
    staff_auth.sign_in()
    response = client.get("/api/v1/residents?q=13")
    assert response.status_code == 200 and response.get_json()
    assert response.headers["Cache-Control"] == "no-store"


def test_only_the_consoles_style_attributes_are_allowed_inline(
    client: FlaskClient, staff_auth: StaffActions, demo: None
) -> None:
    staff_auth.sign_in()
    console = _directives(client.get("/staff/").headers["Content-Security-Policy"])
    kiosk = _directives(client.get("/kiosk/").headers["Content-Security-Policy"])
    assert console["style-src-attr"] == "'unsafe-inline'"
    assert console["style-src"] == kiosk["style-src"] == "'self'"
    assert "style-src-attr" not in kiosk


@pytest.mark.parametrize("path", ["/static/touch/idle.js", "/staff/static/devices.js"])
def test_static_files_may_be_cached_but_keep_the_other_headers(
    client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    response.close()  # a static file is sent from an open file
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_header_a_view_set_is_kept_and_caching_is_forbidden_where_the_view_allowed_it(
    client: FlaskClient,
) -> None:
    def own_headers() -> Response:
        response = Response("ok")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Cache-Control"] = "max-age=60"
        response.headers["X-Other"] = "kept"
        return response

    client.application.add_url_rule("/own-headers", view_func=own_headers)
    response = client.get("/own-headers")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers.getlist("Cache-Control") == ["no-store"]
    assert response.headers["Pragma"] == "no-cache"
    assert response.headers["Referrer-Policy"] == "same-origin"
    # Where the view put it: replaced in place, as assignment does.
    names = [name for name, _value in response.headers]
    assert names.index("Cache-Control") < names.index("X-Other")
