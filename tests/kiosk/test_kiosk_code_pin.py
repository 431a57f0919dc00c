"""Choosing a PIN at the kiosk with the one-time code on a staff slip: phone and code, then
the PIN twice under the policy, then signed in; forgiving and clear when something is off."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.people import one_time_codes
from booking.people.enrolment import EnrolmentDetails, enrol_resident
from booking.people.models.resident_codes import CodePurpose
from booking.people.one_time_codes import IssuedCode
from kiosk.extensions import database
from tests.kiosk.conftest import KioskActions, alert_of

PHONE = "13900000123"
NEW_PIN = "385720"


@pytest.fixture
def issued(app: Flask, kiosk: KioskActions, clock: FrozenClock) -> IssuedCode:
    """周桂兰, just enrolled at the demo centre, with the code on her slip."""
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        resident = enrol_resident(session, site_id=site.id, now=clock.now(), actor="staff:zhao",
                                  details=EnrolmentDetails(name="周桂兰", phone=PHONE)).resident  # fmt: skip
        return one_time_codes.issue_code(session, resident_id=resident.id, site_id=site.id,
                                         purpose=CodePurpose.ENROL, now=clock.now(),
                                         actor="staff:zhao")  # fmt: skip


def type_code(kiosk: KioskActions, code: str, phone: str = PHONE) -> TestResponse:
    return kiosk.client.post(
        "/kiosk/code", data={"phone": phone, "code": code, "csrf_token": kiosk.csrf_token()}
    )


def choose(kiosk: KioskActions, pin: str = NEW_PIN, again: str | None = None) -> TestResponse:
    return kiosk.client.post("/kiosk/code/pin", data={
        "pin": pin, "pin_again": pin if again is None else again, "csrf_token": kiosk.csrf_token(),
    })  # fmt: skip


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


def phone_shown(page: str) -> str:
    match = re.search(r'id="phone"[^>]*value="([^"]*)"', page, re.S)
    assert match
    return match.group(1)


def test_the_sign_in_screen_offers_the_code_in_chinese(kiosk: KioskActions) -> None:
    page = kiosk.client.get("/kiosk/sign-in").get_data(as_text=True)
    assert 'href="/kiosk/code"' in page and "第一次使用或忘记密码？我有验证码" in page
    code_page = kiosk.client.get("/kiosk/code").get_data(as_text=True)
    assert "用验证码设置密码" in code_page and "单子上的验证码（8 位数字）" in code_page


def test_phone_and_code_then_a_pin_twice_signs_the_resident_in_with_that_pin(
    kiosk: KioskActions, issued: IssuedCode
) -> None:
    typed = type_code(kiosk, issued.code)
    assert typed.status_code == 302 and typed.headers["Location"].endswith("/kiosk/code/pin")
    page = kiosk.client.get("/kiosk/code/pin").get_data(as_text=True)
    assert "验证码正确" in page and 'action="/kiosk/code/pin"' in page
    done = choose(kiosk)
    assert done.status_code == 302 and done.headers["Location"].endswith("/kiosk/")
    home = kiosk.home()
    assert 'data-signed-in="true"' in home and "周*兰" in home and "密码已保存" in home
    kiosk.sign_out()
    assert kiosk.sign_in(PHONE, NEW_PIN).status_code == 302 and kiosk.is_signed_in()
    kiosk.sign_out()
    assert type_code(kiosk, issued.code).status_code == 409  # used once
    assert "已经用过" in alert_of(type_code(kiosk, issued.code).get_data(as_text=True))


def test_a_wrong_code_keeps_the_phone_and_says_to_check_the_slip(
    kiosk: KioskActions, issued: IssuedCode
) -> None:
    response = type_code(kiosk, wrong(issued.code))
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "手机号码或验证码不对" in alert_of(page)
    assert phone_shown(page) == PHONE


def test_an_expired_code_says_to_ask_the_staff_for_a_new_slip(
    kiosk: KioskActions, issued: IssuedCode, clock: FrozenClock
) -> None:
    clock.advance(timedelta(hours=24))
    response = type_code(kiosk, issued.code)
    assert response.status_code == 410
    assert "请找工作人员重新打印" in alert_of(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("phone", "code", "message"),
    [
        ("1390000", "12345678", "请输入您的11位手机号码。"),
        (PHONE, "1234", "单子上的验证码是 8 位数字"),
        (PHONE, "一二三四五六七八", "单子上的验证码是 8 位数字"),
    ],
)
def test_a_mistyped_phone_or_code_is_explained_and_not_counted(
    kiosk: KioskActions, issued: IssuedCode, phone: str, code: str, message: str
) -> None:
    for _ in range(4):  # more than the throttle's free tries: none of them counted
        response = type_code(kiosk, code, phone=phone)
        assert response.status_code == 422
    assert message in alert_of(response.get_data(as_text=True))
    assert type_code(kiosk, issued.code).status_code == 302


def test_guessing_codes_is_throttled(kiosk: KioskActions, issued: IssuedCode) -> None:
    for _ in range(3):
        assert type_code(kiosk, wrong(issued.code)).status_code == 401
    waited = type_code(kiosk, issued.code)
    assert waited.status_code == 429 and waited.headers["Retry-After"] == "30"
    assert "输错的次数太多了" in waited.get_data(as_text=True)


def test_two_different_pins_or_a_weak_one_are_refused_and_the_code_still_works(
    kiosk: KioskActions, issued: IssuedCode
) -> None:
    type_code(kiosk, issued.code)
    differ = choose(kiosk, NEW_PIN, "385721")
    assert differ.status_code == 422
    assert "两次输入的密码不一样" in alert_of(differ.get_data(as_text=True))
    weak = choose(kiosk, "123456")
    assert weak.status_code == 422 and "连续的数字" in alert_of(weak.get_data(as_text=True))
    assert not kiosk.is_signed_in()
    assert choose(kiosk).status_code == 302 and kiosk.is_signed_in()


def test_the_pin_page_needs_a_code_typed_a_moment_ago(
    kiosk: KioskActions, issued: IssuedCode, clock: FrozenClock
) -> None:
    never = kiosk.client.get("/kiosk/code/pin")
    assert never.status_code == 302 and never.headers["Location"].endswith("/kiosk/code")
    assert choose(kiosk).status_code == 302 and not kiosk.is_signed_in()
    type_code(kiosk, issued.code)
    clock.advance(timedelta(minutes=3))
    late = choose(kiosk)
    assert late.headers["Location"].endswith("/kiosk/code")
    assert "请重新输入手机号码和验证码" in kiosk.client.get("/kiosk/code").get_data(as_text=True)
    assert not kiosk.is_signed_in()
    # The slip is not spent: typed again, it still works.
    type_code(kiosk, issued.code)
    assert choose(kiosk).status_code == 302 and kiosk.is_signed_in()


def test_a_slip_replaced_while_the_pin_was_chosen_sends_the_resident_back_with_the_reason(
    app: Flask, kiosk: KioskActions, issued: IssuedCode, clock: FrozenClock
) -> None:
    type_code(kiosk, issued.code)
    with app.app_context(), database().write() as session:
        one_time_codes.issue_code(session, resident_id=issued.resident_id, site_id=1,
                                  purpose=CodePurpose.PIN_RESET, now=clock.now(),
                                  actor="staff:zhao")  # fmt: skip
    response = choose(kiosk)
    assert response.status_code == 409
    assert "新的单子" in alert_of(response.get_data(as_text=True))
    assert not kiosk.is_signed_in()


def test_a_resident_sent_to_sign_in_by_a_task_carries_on_with_it_after_the_code(
    kiosk: KioskActions, issued: IssuedCode
) -> None:
    typed = kiosk.client.post("/kiosk/code", data={
        "phone": PHONE, "code": issued.code, "next": "/kiosk/bookings",
        "csrf_token": kiosk.csrf_token(),
    })  # fmt: skip
    assert typed.headers["Location"].endswith("/kiosk/code/pin")
    assert choose(kiosk, again="385721").status_code == 422  # a slip keeps the task too
    done = choose(kiosk)
    assert done.headers["Location"] == "/kiosk/bookings"
