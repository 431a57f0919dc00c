"""The JSON API: what it answers, who may ask, and the one shape of every error."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.core.clock import FrozenClock
from tests.conftest import StaffActions
from tests.resident_rows import resident_of_another_centre, residents_named_test


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error


def test_health_answers_ok_with_the_time(client: FlaskClient, clock: FrozenClock) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    # No broker configured: there is no device link to check (see tests/kiosk/test_health.py).
    assert response.json == {
        "status": "ok",
        "time": "2026-11-24T01:30:00+00:00",
        "database": "ok",
        "device_link": "not_configured",
    }


@pytest.mark.usefixtures("demo")
def test_site_answers_names_timezone_and_hours(client: FlaskClient) -> None:
    assert client.get("/api/v1/site").json == {
        "slug": "xinhua",
        "name_zh": "新华社区邻里中心",
        "name_en": "Xinhua Neighbourhood Centre",
        "timezone": "Asia/Shanghai",
        "opens_at": "08:00",
        "closes_at": "21:00",
    }


def test_a_domain_error_answers_its_code_and_status(client: FlaskClient) -> None:
    # No centre seeded: booking.core.sites raises NotFound, which keeps its code and status.
    error = assert_error(client.get("/api/v1/site"), 404, "not_found")
    assert "xinhua" in error["message"]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/residents", "/api/v1/residents/1", "/api/v1/staff/me", "/api/v1/staff/csrf-token"],
)
def test_staff_routes_answer_401_without_a_staff_session(client: FlaskClient, url: str) -> None:
    assert_error(client.get(url), 401, "session_expired")


@pytest.mark.usefixtures("demo")
def test_a_revoked_staff_cookie_gets_401(client: FlaskClient, staff_auth: StaffActions) -> None:
    staff_auth.sign_in()
    staff_auth.sign_out()
    assert_error(client.get("/api/v1/residents"), 401, "session_expired")


def test_an_anonymous_caller_gets_401_before_any_validation(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/residents?page=zero"), 401, "session_expired")


def test_an_unknown_api_path_answers_404_in_the_envelope(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_a_wrong_method_answers_405_in_the_envelope(client: FlaskClient) -> None:
    response = client.put("/api/v1/health")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_pages_outside_the_api_keep_their_html_errors(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page=0", "page"),
        ("page=-3", "page"),
        ("page=two", "page"),
        ("q=" + "王" * 61, "q"),
    ],
)
def test_bad_query_arguments_answer_422_naming_the_field(
    client: FlaskClient, staff_auth: StaffActions, query: str, field: str
) -> None:
    staff_auth.sign_in()
    error = assert_error(client.get(f"/api/v1/residents?{query}"), 422, "invalid_input")
    assert field in error["details"]["fields"]["query"]


@pytest.mark.usefixtures("demo")
def test_residents_lists_the_staff_members_centre(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    body = client.get("/api/v1/residents?q=王").json
    assert (body["total"], body["page"], body["page_size"], body["pages"]) == (1, 1, 50, 1)
    assert body["items"] == [
        {
            "id": body["items"][0]["id"],
            "name": "王秀英",
            "phone": "13800000001",
            "card_id": "CARD0001",
            "is_elderly": True,
            "lives_alone": True,
        }
    ]


@pytest.mark.usefixtures("demo")
def test_residents_come_fifty_to_a_page(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    residents_named_test(app, clock, 60, digits=2)
    staff_auth.sign_in()
    first = client.get("/api/v1/residents?q=测试").json
    second = client.get("/api/v1/residents?q=测试&page=2").json
    assert (first["total"], first["pages"], len(first["items"])) == (60, 2, 50)
    assert len(second["items"]) == 10
    assert second["items"][-1]["name"] == "测试59"


@pytest.mark.usefixtures("demo")
def test_a_resident_of_another_centre_is_not_found(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    outsider = resident_of_another_centre(app, clock)
    staff_auth.sign_in()
    assert_error(client.get(f"/api/v1/residents/{outsider}"), 404, "not_found")


@pytest.mark.usefixtures("demo")
def test_me_answers_the_signed_in_account_and_its_centre(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    body = client.get("/api/v1/staff/me").json
    assert (body["username"], body["role"], body["site"]["slug"]) == ("zhao", "staff", "xinhua")


@pytest.mark.usefixtures("demo")
def test_an_unsafe_call_without_the_csrf_header_is_refused(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    assert_error(client.delete("/api/v1/staff/session"), 400, "csrf_failed")
    assert client.get("/api/v1/staff/me").status_code == 200  # still signed in


@pytest.mark.usefixtures("demo")
def test_signing_out_through_the_api_with_the_csrf_header_ends_the_session(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    token = client.get("/api/v1/staff/csrf-token").json["csrf_token"]
    response = client.delete("/api/v1/staff/session", headers={"X-CSRFToken": token})
    assert response.status_code == 204
    assert_error(client.get("/api/v1/staff/me"), 401, "session_expired")
