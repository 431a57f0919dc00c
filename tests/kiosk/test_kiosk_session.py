"""The kiosk session: server-side, short-lived, and only ever from the kiosk's own cookie."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.people import auth_sessions, staff
from booking.people.models.resident_sessions import ResidentSession
from kiosk.extensions import database
from tests.kiosk.conftest import KioskActions, csrf_token_of


def end_reasons(app: Flask) -> list[str | None]:
    with app.app_context(), database().read() as session:
        return list(session.scalars(select(ResidentSession.end_reason)))


def test_the_server_ends_a_kiosk_session_after_the_idle_limit(
    kiosk: KioskActions, clock: FrozenClock, app: Flask
) -> None:
    kiosk.sign_in()
    clock.advance(timedelta(seconds=61))
    page = kiosk.home()
    assert 'data-signed-in="false"' in page
    assert "为了保护您的信息，您已退出登录" in page
    assert kiosk.token() is None
    assert end_reasons(app) == ["idle"]


def test_a_request_within_the_idle_limit_keeps_the_session(
    kiosk: KioskActions, clock: FrozenClock
) -> None:
    kiosk.sign_in()
    clock.advance(timedelta(seconds=50))
    kiosk.client.get("/kiosk/services/tools")
    clock.advance(timedelta(seconds=50))
    assert kiosk.is_signed_in()


def test_the_idle_limit_comes_from_config(kiosk: KioskActions, clock: FrozenClock) -> None:
    kiosk.client.application.config["KIOSK_IDLE_SECONDS"] = 120
    kiosk.sign_in()
    clock.advance(timedelta(seconds=100))
    assert kiosk.is_signed_in()


def test_keepalive_restarts_the_server_idle_timer(kiosk: KioskActions, clock: FrozenClock) -> None:
    kiosk.sign_in()
    token = kiosk.csrf_token()
    clock.advance(timedelta(seconds=55))
    response = kiosk.client.post("/kiosk/session/keepalive", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert response.json == {"signed_in": True, "idle_seconds": 60}
    clock.advance(timedelta(seconds=55))
    assert kiosk.is_signed_in()


def test_keepalive_after_the_idle_limit_says_signed_out(
    kiosk: KioskActions, clock: FrozenClock
) -> None:
    kiosk.sign_in()
    token = kiosk.csrf_token()
    clock.advance(timedelta(seconds=61))
    response = kiosk.client.post("/kiosk/session/keepalive", headers={"X-CSRFToken": token})
    assert response.status_code == 401
    assert response.json == {"signed_in": False, "home": "/kiosk/"}


def test_keepalive_without_the_csrf_header_is_refused(kiosk: KioskActions) -> None:
    kiosk.sign_in()
    response = kiosk.client.post("/kiosk/session/keepalive", json={})
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"]["code"] == "csrf_failed"


def test_the_idle_sign_out_from_the_page_ends_the_session_and_says_why(
    kiosk: KioskActions, app: Flask
) -> None:
    kiosk.sign_in()
    token = kiosk.csrf_token()
    response = kiosk.client.post(
        "/kiosk/sign-out", json={"reason": "idle"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert response.json == {"signed_in": False, "home": "/kiosk/"}
    assert "屏幕有一段时间没人使用" in kiosk.home()
    assert end_reasons(app) == ["idle"]


def test_a_staff_session_token_is_not_a_kiosk_session(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    with app.app_context(), database().write() as session:
        account = staff.get_staff_by_username(session, "zhao")
        token = auth_sessions.start_staff_session(session, staff=account, now=clock.now())
    kiosk.client.set_cookie("linli_staff", token, path="/")
    assert not kiosk.is_signed_in()
    kiosk.client.set_cookie("linli_kiosk", token, path="/kiosk")
    assert not kiosk.is_signed_in()


def test_a_forged_token_is_not_a_kiosk_session_and_its_cookie_is_removed(
    kiosk: KioskActions,
) -> None:
    kiosk.client.set_cookie("linli_kiosk", "forged-token", path="/kiosk")
    response = kiosk.client.get("/kiosk/")
    assert 'data-signed-in="false"' in response.get_data(as_text=True)
    assert "linli_kiosk=;" in response.headers["Set-Cookie"]


def test_a_kiosk_session_cookie_is_not_sent_outside_the_kiosk(kiosk: KioskActions) -> None:
    kiosk.sign_in()
    assert kiosk.client.get_cookie("linli_kiosk", path="/") is None
    assert kiosk.token()


def test_the_sign_in_page_carries_a_csrf_meta_tag_for_fetch_calls(kiosk: KioskActions) -> None:
    assert csrf_token_of(kiosk.client.get("/kiosk/sign-in").get_data(as_text=True))


def test_every_form_of_a_page_carries_the_pages_one_csrf_token_and_it_is_accepted(
    kiosk: KioskActions,
) -> None:
    page = kiosk.home()
    forms = re.findall(r'name="csrf_token" value="([^"]+)"', page)
    assert len(forms) >= 2
    assert set(forms) == {csrf_token_of(page)}
    response = kiosk.client.post(
        "/kiosk/language", data={"locale": "en", "next": "/kiosk/", "csrf_token": forms[-1]}
    )
    assert response.status_code == 302


def test_a_form_post_with_a_token_from_another_browser_is_refused(
    kiosk: KioskActions, app: Flask
) -> None:
    other = csrf_token_of(app.test_client().get("/kiosk/").get_data(as_text=True))
    kiosk.home()
    response = kiosk.client.post(
        "/kiosk/language", data={"locale": "en", "next": "/kiosk/", "csrf_token": other}
    )
    assert response.status_code == 400
