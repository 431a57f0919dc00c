"""Signing in at the kiosk with phone and PIN."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.people import sign_in_guard
from booking.people.models.resident_sessions import ResidentSession
from booking.people.models.sign_in_failures import SignInKind
from kiosk.extensions import clock as app_clock
from kiosk.extensions import database
from tests.kiosk.conftest import (
    DEMO_PHONE,
    UNKNOWN_PHONE,
    KioskActions,
    alert_of,
    csrf_token_of,
)


def throttle_failures(app: Flask, phone: str) -> int:
    with app.app_context(), database().read() as session:
        return sign_in_guard.failures_of(session, SignInKind.RESIDENT, phone, now=app_clock().now())


def open_sessions(app: Flask) -> int:
    with app.app_context(), database().read() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(ResidentSession)
                .where(ResidentSession.ended_at.is_(None))
            )
            or 0
        )


def test_a_resident_signs_in_and_is_greeted_by_masked_name(kiosk: KioskActions) -> None:
    response = kiosk.sign_in()
    assert response.status_code == 302
    page = kiosk.home()
    assert "您好，王*英" in page


def test_a_signed_in_kiosk_never_shows_the_full_name_or_the_phone(kiosk: KioskActions) -> None:
    kiosk.sign_in()
    for path in ("/kiosk/", "/kiosk/services/tools", "/kiosk/sign-in"):
        page = kiosk.client.get(path, follow_redirects=True).get_data(as_text=True)
        assert "王秀英" not in page
        assert DEMO_PHONE not in page


def test_the_kiosk_cookie_is_http_only_lax_and_limited_to_kiosk_pages(
    kiosk: KioskActions,
) -> None:
    header = kiosk.sign_in().headers["Set-Cookie"]
    assert header.startswith("linli_kiosk=")
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/kiosk" in header
    assert "Secure" not in header


def test_the_kiosk_cookie_is_secure_when_the_kiosk_is_served_over_https(
    client: FlaskClient, demo: None
) -> None:
    client.get("/kiosk/", base_url="https://localhost")
    from tests.kiosk.conftest import csrf_token_of

    token = csrf_token_of(
        client.get("/kiosk/", base_url="https://localhost").get_data(as_text=True)
    )
    response = client.post(
        "/kiosk/sign-in",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/kiosk/sign-in"},
        data={"phone": DEMO_PHONE, "pin": "275139", "csrf_token": token},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_unknown_phone_and_wrong_pin_answer_identically(kiosk: KioskActions) -> None:
    unknown = kiosk.sign_in(phone=UNKNOWN_PHONE, pin="275139")
    wrong_pin = kiosk.sign_in(phone=DEMO_PHONE, pin="9999")
    assert unknown.status_code == wrong_pin.status_code == 401
    assert alert_of(unknown.get_data(as_text=True)) == alert_of(wrong_pin.get_data(as_text=True))
    assert alert_of(unknown.get_data(as_text=True)).startswith("手机号码或密码不对")
    # Each gets back only the phone it typed: the pages differ in nothing else.
    assert unknown.get_data(as_text=True).replace(UNKNOWN_PHONE, "P").replace(
        csrf_token_of(unknown.get_data(as_text=True)), "T"
    ) == wrong_pin.get_data(as_text=True).replace(DEMO_PHONE, "P").replace(
        csrf_token_of(wrong_pin.get_data(as_text=True)), "T"
    )


def test_a_wrong_pin_is_counted_although_the_sign_in_fails(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in(pin="9999")
    kiosk.sign_in(pin="9999")
    assert throttle_failures(app, DEMO_PHONE) == 2
    assert open_sessions(app) == 0


WAIT_30_SECONDS = (
    "这台设备上输错的次数太多了。请 30 秒后再试。 / "
    "Too many wrong tries from this screen. Please try again in 30 seconds."
)


def test_after_three_wrong_pins_the_kiosk_says_in_both_languages_how_long_to_wait(
    kiosk: KioskActions, app: Flask
) -> None:
    for _ in range(3):
        assert kiosk.sign_in(pin="9999").status_code == 401
    fourth = kiosk.sign_in(pin="275139")  # the right PIN, too soon
    assert fourth.status_code == 429
    assert fourth.headers["Retry-After"] == "30"
    assert alert_of(fourth.get_data(as_text=True)) == WAIT_30_SECONDS
    assert kiosk.token() is None
    assert open_sessions(app) == 0


def test_once_the_wait_is_over_the_right_pin_signs_in(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    for _ in range(3):
        kiosk.sign_in(pin="9999")
    clock.advance(timedelta(seconds=30))
    assert kiosk.sign_in().status_code == 302
    assert open_sessions(app) == 1


def test_one_client_is_stopped_after_ten_wrong_pins_across_different_phones(
    kiosk: KioskActions, app: Flask
) -> None:
    for n in range(10):
        assert kiosk.sign_in(phone=f"139000000{n:02d}", pin="9999").status_code == 401
    eleventh = kiosk.sign_in()  # a resident's right phone and PIN, from the same client
    assert eleventh.status_code == 429
    assert eleventh.headers["Retry-After"] == "600"
    assert "请 10 分钟后再试" in alert_of(eleventh.get_data(as_text=True))
    assert open_sessions(app) == 0


def test_a_stranger_elsewhere_cannot_lock_a_resident_out_of_the_lobby_kiosk(
    app: Flask, demo: None
) -> None:
    stranger = KioskActions(app.test_client())
    stranger.client.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(10):
        stranger.sign_in(pin="9999")
    assert stranger.sign_in().status_code == 429
    lobby = KioskActions(app.test_client())
    lobby.client.environ_base["REMOTE_ADDR"] = "10.0.0.10"
    assert lobby.sign_in().status_code == 302
    assert lobby.is_signed_in()


@pytest.mark.parametrize(
    ("phone", "pin", "message"),
    [
        ("", "275139", "请输入您的11位手机号码。"),
        ("1380000000", "275139", "请输入您的11位手机号码。"),
        ("23800000001", "275139", "请输入您的11位手机号码。"),
        ("1380000000a", "275139", "请输入您的11位手机号码。"),
        (DEMO_PHONE, "", "密码是4到6位数字，请重新输入。"),
        (DEMO_PHONE, "123", "密码是4到6位数字，请重新输入。"),
        (DEMO_PHONE, "1234567", "密码是4到6位数字，请重新输入。"),
        (DEMO_PHONE, "12a4", "密码是4到6位数字，请重新输入。"),
    ],
)
def test_a_malformed_phone_or_pin_is_explained_and_counts_no_attempt(
    kiosk: KioskActions, app: Flask, phone: str, pin: str, message: str
) -> None:
    response = kiosk.sign_in(phone=phone, pin=pin)
    assert response.status_code == 422
    assert alert_of(response.get_data(as_text=True)) == message
    assert throttle_failures(app, DEMO_PHONE) == 0
    assert open_sessions(app) == 0


def test_sign_in_without_a_csrf_token_is_refused_and_changes_nothing(
    client: FlaskClient, demo: None, app: Flask
) -> None:
    assert app.config.get("WTF_CSRF_ENABLED", True) is True
    response = client.post("/kiosk/sign-in", data={"phone": DEMO_PHONE, "pin": "9999"})
    assert response.status_code == 400
    assert "这个页面打开太久了" in response.get_data(as_text=True)
    assert throttle_failures(app, DEMO_PHONE) == 0
    assert client.get_cookie("linli_kiosk", path="/kiosk") is None


def test_sign_in_with_a_forged_csrf_token_is_refused(kiosk: KioskActions, app: Flask) -> None:
    response = kiosk.client.post(
        "/kiosk/sign-in", data={"phone": DEMO_PHONE, "pin": "275139", "csrf_token": "forged"}
    )
    assert response.status_code == 400
    assert open_sessions(app) == 0


def test_signing_out_ends_the_session_on_the_server(kiosk: KioskActions, app: Flask) -> None:
    kiosk.sign_in()
    token = kiosk.token()
    assert token
    response = kiosk.sign_out()
    assert response.status_code == 302
    assert kiosk.token() is None
    assert "您已退出登录，再见！" in kiosk.home()
    # The old token replayed by hand opens nothing.
    kiosk.client.set_cookie("linli_kiosk", token, path="/kiosk")
    assert not kiosk.is_signed_in()


def test_signing_in_at_a_kiosk_someone_left_ends_their_session(
    kiosk: KioskActions, app: Flask
) -> None:
    kiosk.sign_in()
    kiosk.sign_in(phone="13800000002", pin="386204")
    assert open_sessions(app) == 1
    assert "您好，李*国" in kiosk.home()


def test_a_wrong_pin_says_only_that_it_is_wrong(kiosk: KioskActions) -> None:
    response = kiosk.sign_in(pin="9999")
    assert alert_of(response.get_data(as_text=True)) == "手机号码或密码不对，请再试一次。"


def weaken_pin(app: Flask, phone: str, pin: str) -> None:
    """As PINs were set before the PIN policy: four digits, say."""
    from booking.people import passwords
    from booking.people.models.residents import Resident

    with app.app_context(), database().write() as session:
        resident = session.scalars(select(Resident).where(Resident.phone == phone)).one()
        resident.set_pin(passwords.hash_secret(pin))


def test_a_pin_set_before_the_policy_opens_once_and_the_resident_chooses_a_new_one_first(
    kiosk: KioskActions, app: Flask
) -> None:
    weaken_pin(app, DEMO_PHONE, "1234")
    response = kiosk.sign_in(pin="1234")
    assert response.status_code == 302
    # Any other page waits until a new PIN is chosen, and comes back afterwards.
    asked = kiosk.client.get("/kiosk/services/tools")
    assert asked.location.startswith("/kiosk/pin?next=/kiosk/services/tools")
    page = kiosk.client.get(asked.location).get_data(as_text=True)
    assert "请先设置一个新的6位密码" in page
    token = csrf_token_of(page)
    weak = kiosk.client.post("/kiosk/pin", data={
        "pin": "123456", "pin_again": "123456", "csrf_token": token,
    })  # fmt: skip
    assert weak.status_code == 422
    assert "连续的数字" in alert_of(weak.get_data(as_text=True))
    mismatch = kiosk.client.post("/kiosk/pin", data={
        "pin": "902417", "pin_again": "902471", "csrf_token": token,
    })  # fmt: skip
    assert mismatch.status_code == 422
    saved = kiosk.client.post("/kiosk/pin", data={
        "pin": "902417", "pin_again": "902417", "csrf_token": token,
        "next": "/kiosk/services/tools",
    })  # fmt: skip
    assert saved.location == "/kiosk/services/tools"
    # Nothing sends the resident back to the PIN page any more.
    assert not (kiosk.client.get("/kiosk/services/tools").location or "").startswith("/kiosk/pin")
    assert kiosk.client.get("/kiosk/").status_code == 200
    kiosk.sign_out()
    assert kiosk.sign_in(pin="1234").status_code == 401
    assert kiosk.sign_in(pin="902417").status_code == 302


def test_a_form_sent_before_the_new_pin_is_chosen_leads_to_the_pin_page_and_not_back(
    kiosk: KioskActions, app: Flask
) -> None:
    weaken_pin(app, DEMO_PHONE, "1234")
    kiosk.sign_in(pin="1234")
    token = csrf_token_of(kiosk.client.get("/kiosk/pin").get_data(as_text=True))
    sent = kiosk.client.post("/kiosk/seats/book", data={"seat_id": "1", "csrf_token": token})
    assert sent.location == "/kiosk/pin"  # no "next": a form is not sent again by a redirect


def test_a_resident_signed_in_with_a_good_pin_cannot_set_another_without_a_slip(
    kiosk: KioskActions,
) -> None:
    # Someone finding a screen left signed in must not choose a PIN of their own for the
    # resident: the new-PIN page is only for a PIN the policy found weak.
    kiosk.sign_in()
    assert kiosk.client.get("/kiosk/pin").location == "/kiosk/"
    sent = kiosk.client.post("/kiosk/pin", data={
        "pin": "902417", "pin_again": "902417", "csrf_token": kiosk.csrf_token(),
    })  # fmt: skip
    assert sent.location == "/kiosk/"
    kiosk.sign_out()
    assert kiosk.sign_in(pin="902417").status_code == 401
    assert kiosk.sign_in().status_code == 302
