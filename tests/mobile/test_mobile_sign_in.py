"""Signing in on a resident's own phone: the kiosk's services, throttle and words, with a
session of its own that lasts a month of disuse, and no way to send a code until SMS exists."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from booking.core.clock import FrozenClock
from booking.core.errors import SessionExpired
from booking.people import auth_sessions
from booking.people.models.resident_sessions import ResidentSession, SessionChannel
from kiosk.extensions import database
from tests.mobile.conftest import DEMO_PHONE, PhoneActions, alert_of, issue_code, resident_id


def test_phone_and_pin_sign_in_opens_the_menu_in_chinese(phone: PhoneActions) -> None:
    response = phone.sign_in()
    assert response.status_code == 302
    assert response.headers["Location"] == "/m/"
    text = phone.page("/m/")
    assert "我的预约" in text and "自习室" in text
    assert 'lang="zh-CN"' in text


def test_signed_out_pages_send_the_browser_to_sign_in(phone: PhoneActions) -> None:
    for path in ("/m/", "/m/bookings", "/m/seats", "/m/tools", "/m/blood-pressure", "/m/calendar"):
        response = phone.client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"] == "/m/sign-in"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"phone": "1380000", "pin": "275139"}, "11位手机号码"),
        ({"phone": "", "pin": ""}, "11位手机号码"),
        ({"phone": DEMO_PHONE, "pin": "12"}, "4到6位"),
        ({"phone": DEMO_PHONE, "pin": "abcdef"}, "4到6位"),
        ({"phone": DEMO_PHONE, "pin": "111111"}, "手机号码或密码不对"),
        ({"phone": "13999999999", "pin": "275139"}, "手机号码或密码不对"),
    ],
)
def test_a_bad_sign_in_says_what_to_fix_in_the_kiosks_words(
    phone: PhoneActions, fields: dict[str, str], words: str
) -> None:
    response = phone.post("/m/sign-in", **fields)
    assert response.status_code in (401, 422)
    assert words in alert_of(response.get_data(as_text=True))
    assert phone.token() is None


def test_wrong_pins_on_the_phone_count_with_the_kiosks_throttle(phone: PhoneActions) -> None:
    for _ in range(3):
        phone.sign_in(pin="111111")
    # The kiosk's sign-in from the same address now waits too: one throttle, one account.
    kiosk_try = phone.client.post("/kiosk/sign-in", data={
        "phone": DEMO_PHONE, "pin": "275139",
        "csrf_token": phone.csrf_token(),
    })  # fmt: skip
    assert kiosk_try.status_code == 429
    assert phone.sign_in().status_code == 429


def test_a_code_from_staff_signs_in_once(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    code = issue_code(app, clock)
    response = phone.sign_in_with_code(f"{code[:4]} {code[4:]}")
    assert response.status_code == 302
    assert phone.is_signed_in()
    phone.post("/m/sign-out")
    again = phone.sign_in_with_code(code)
    assert again.status_code == 409
    assert "已经用过" in alert_of(again.get_data(as_text=True))


@pytest.mark.parametrize(
    ("code", "status", "words"),
    [
        ("1234", 422, "8 位数字"),
        ("abcdefgh", 422, "8 位数字"),
        ("00000000", 401, "手机号码或验证码不对"),
    ],
)
def test_a_bad_code_says_what_to_fix(
    phone: PhoneActions, app: Flask, clock: FrozenClock, code: str, status: int, words: str
) -> None:
    issued = issue_code(app, clock)
    if code == issued:  # one in 10^8: the "wrong" code happened to be right
        pytest.skip("the random code was the one tried")
    response = phone.sign_in_with_code(code)
    assert response.status_code == status
    assert words in alert_of(response.get_data(as_text=True))
    assert phone.token() is None


def test_a_code_past_its_day_says_to_ask_for_a_new_slip(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    code = issue_code(app, clock)
    clock.advance(timedelta(hours=25))
    response = phone.sign_in_with_code(code)
    assert response.status_code == 410
    assert "已过期" in alert_of(response.get_data(as_text=True))


def test_no_send_me_a_code_button_while_no_sms_sender_is_configured(phone: PhoneActions) -> None:
    text = phone.page("/m/code")
    assert 'name="code"' in text
    assert "send" not in text.lower().replace("csrf", "")


def test_the_phone_session_lasts_weeks_of_disuse_but_not_past_its_limit(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    phone.sign_in()
    clock.advance(timedelta(days=29))
    assert phone.client.get("/m/bookings").status_code == 200
    clock.advance(timedelta(days=30, minutes=1))
    assert phone.client.get("/m/bookings").status_code == 302
    assert phone.token() is None


def test_signing_out_ends_the_session_on_the_server(phone: PhoneActions, app: Flask) -> None:
    phone.sign_in()
    token = phone.token()
    assert token
    assert phone.post("/m/sign-out").headers["Location"] == "/m/sign-in"
    with app.app_context(), database().read() as session:
        [row] = session.query(ResidentSession).all()
        assert row.ended_at is not None and row.channel is SessionChannel.PHONE
    phone.client.set_cookie("linli_phone", token, path="/m")
    assert phone.client.get("/m/").status_code == 302


def test_a_kiosk_token_is_not_taken_on_the_phone_nor_a_phone_token_at_the_kiosk(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    phone.client.post("/kiosk/sign-in", data={
        "phone": DEMO_PHONE, "pin": "275139", "csrf_token": phone.csrf_token(),
    })  # fmt: skip
    kiosk_cookie = phone.client.get_cookie("linli_kiosk", path="/kiosk")
    assert kiosk_cookie is not None
    phone.client.set_cookie("linli_phone", kiosk_cookie.value, path="/m")
    assert phone.client.get("/m/").status_code == 302
    phone.sign_in()
    with app.app_context(), database().write() as session:
        with pytest.raises(SessionExpired):
            auth_sessions.resume_resident_session(
                session, token=phone.token() or "", now=clock.now(),
                idle_limit=timedelta(minutes=1),
            )  # fmt: skip


def test_a_pin_reset_by_staff_ends_the_phone_session(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    phone.sign_in()
    issue_code(app, clock)  # a PIN reset ends every sign-in of the resident
    assert phone.client.get("/m/").status_code == 302
    assert resident_id(app) > 0


def test_a_form_without_its_csrf_token_is_refused_in_words(phone: PhoneActions) -> None:
    response = phone.client.post("/m/sign-in", data={"phone": DEMO_PHONE, "pin": "275139"})
    assert response.status_code == 400
    assert "这个页面打开太久了" in response.get_data(as_text=True)


def test_after_a_code_the_resident_chooses_a_pin_that_works_at_the_kiosk(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    phone.sign_in_with_code(issue_code(app, clock))
    assert 'id="choose-pin"' in phone.page("/m/")
    weak = phone.post("/m/pin", pin="123456", pin_again="123456")
    assert weak.status_code == 422
    assert "太容易被猜到" in alert_of(weak.get_data(as_text=True))
    differs = phone.post("/m/pin", pin="385720", pin_again="385721")
    assert differs.status_code == 422
    assert phone.post("/m/pin", pin="385720", pin_again="385720").headers["Location"] == "/m/"
    assert 'id="choose-pin"' not in phone.page("/m/")
    kiosk = phone.client.post("/kiosk/sign-in", data={
        "phone": DEMO_PHONE, "pin": "385720", "csrf_token": phone.csrf_token(),
    })  # fmt: skip
    assert kiosk.status_code == 302


def test_a_wrong_pin_keeps_the_phone_typed_and_puts_the_cursor_on_the_pin(
    phone: PhoneActions,
) -> None:
    text = phone.sign_in(pin="111111").get_data(as_text=True)
    assert re.search(rf'id="phone"[^>]*value="{DEMO_PHONE}"', text)
    assert re.search(r'id="pin"[^>]*autofocus', text)
    assert not re.search(r'id="phone"[^>]*autofocus', text)


def test_a_resident_signed_in_with_a_pin_cannot_set_another_without_a_slip(
    phone: PhoneActions,
) -> None:
    # A phone left signed in must not let whoever holds it choose the resident's PIN: the
    # page is for a resident with none yet (signed in with a slip's code).
    phone.sign_in()
    assert phone.client.get("/m/pin").headers["Location"] == "/m/"
    assert phone.post("/m/pin", pin="385720", pin_again="385720").headers["Location"] == "/m/"
    phone.client.post("/m/sign-out", data={"csrf_token": phone.csrf_token()})
    assert phone.sign_in(pin="385720").status_code == 401
    assert phone.sign_in().status_code == 302
