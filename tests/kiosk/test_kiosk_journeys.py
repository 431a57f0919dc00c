"""Kiosk journeys for residents over 70: signing in carries on with the task that asked for
it, a wrong PIN keeps the phone typed, the next person starts in Chinese, and cancelling a
booking asks once in large words."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from booking.core.clock import FrozenClock
from booking.spaces.models.bookings import BookingStatus
from kiosk.touch.controllers import safe_next
from tests.kiosk.booking_helpers import book_seat, bookings, page, post
from tests.kiosk.conftest import DEMO_PHONE, DEMO_PIN, KioskActions


def sign_in_with_next(kiosk: KioskActions, next_page: str, pin: str = DEMO_PIN) -> str:
    response = kiosk.client.post("/kiosk/sign-in", data={
        "phone": DEMO_PHONE, "pin": pin, "next": next_page, "csrf_token": kiosk.csrf_token(),
    })  # fmt: skip
    return response.headers.get("Location", "")


def next_of(location: str) -> str:
    assert urlsplit(location).path == "/kiosk/sign-in", location
    return parse_qs(urlsplit(location).query)["next"][0]


# --- 1. signing in carries on with the task ---------------------------------------------------


def test_my_bookings_is_on_the_home_screen_before_signing_in_and_opens_after_it(
    kiosk: KioskActions,
) -> None:
    assert 'href="/kiosk/bookings"' in kiosk.home()
    asked = kiosk.client.get("/kiosk/bookings")
    assert next_of(asked.headers["Location"]) == "/kiosk/bookings"
    assert sign_in_with_next(kiosk, "/kiosk/bookings") == "/kiosk/bookings"


def test_the_sign_in_button_at_the_bottom_comes_back_to_the_page_it_was_pressed_on(
    kiosk: KioskActions,
) -> None:
    seats = kiosk.client.get("/kiosk/seats?day=2026-11-24").get_data(as_text=True)
    link = re.search(r'class="button button-primary button-sign-in" href="([^"]+)"', seats)
    assert link is not None
    assert next_of(link.group(1).replace("&amp;", "&")) == "/kiosk/seats?day=2026-11-24"
    assert sign_in_with_next(kiosk, "/kiosk/seats?day=2026-11-24") == "/kiosk/seats?day=2026-11-24"


def test_the_sign_in_button_on_the_home_screen_carries_no_next(kiosk: KioskActions) -> None:
    assert 'class="button button-primary button-sign-in" href="/kiosk/sign-in"' in kiosk.home()


def test_a_wrong_pin_keeps_the_task_to_carry_on_with(kiosk: KioskActions) -> None:
    failed = kiosk.client.post("/kiosk/sign-in", data={
        "phone": DEMO_PHONE, "pin": "000000", "next": "/kiosk/bookings",
        "csrf_token": kiosk.csrf_token(),
    })  # fmt: skip
    assert 'name="next" value="/kiosk/bookings"' in failed.get_data(as_text=True)
    assert sign_in_with_next(kiosk, "/kiosk/bookings") == "/kiosk/bookings"


def test_blood_pressure_asks_to_sign_in_and_comes_back_to_it(kiosk: KioskActions) -> None:
    history = kiosk.client.get("/kiosk/services/blood-pressure/history")
    assert next_of(history.headers["Location"]) == "/kiosk/services/blood-pressure/history"
    page = kiosk.client.get("/kiosk/services/blood-pressure").get_data(as_text=True)
    assert "/kiosk/sign-in?next=/kiosk/services/blood-pressure" in page


def test_a_button_pressed_while_signed_out_brings_back_its_page_not_the_post(
    kiosk: KioskActions,
) -> None:
    asked = kiosk.client.post(
        "/kiosk/seats/book",
        data={"csrf_token": kiosk.csrf_token(), "return_to": "/kiosk/seats?day=2026-11-24"},
    )
    assert next_of(asked.headers["Location"]) == "/kiosk/seats?day=2026-11-24"


def test_the_code_sign_in_carries_the_task_through(kiosk: KioskActions) -> None:
    sign_in = kiosk.client.get("/kiosk/sign-in?next=/kiosk/bookings").get_data(as_text=True)
    assert 'href="/kiosk/code?next=/kiosk/bookings"' in sign_in
    code = kiosk.client.get("/kiosk/code?next=/kiosk/bookings").get_data(as_text=True)
    assert 'name="next" value="/kiosk/bookings"' in code


@pytest.mark.parametrize(
    ("target", "followed"),
    [
        ("/kiosk/tools#tool-3", "/kiosk/tools#tool-3"),
        ("/kiosk/seats?day=2026-11-24#seat-5", "/kiosk/seats?day=2026-11-24#seat-5"),
        ("/kiosk/tools#<script>", "/kiosk/tools"),
        ("https://evil.example/kiosk/tools", "/kiosk/"),
        ("//evil.example/kiosk/", "/kiosk/"),
        ("/staff/", "/kiosk/"),
        ("", "/kiosk/"),
    ],
)
def test_only_a_kiosk_page_and_a_plain_anchor_are_followed(
    app: Flask, target: str, followed: str
) -> None:
    with app.test_request_context("/kiosk/"):
        assert safe_next(target) == followed


# --- 2. a wrong PIN keeps the phone --------------------------------------------------------------


def field_of(page: str, field: str) -> str:
    match = re.search(rf'<input id="{field}"[^>]*>', page, re.S)
    assert match, f"no {field} box"
    return match.group(0)


def test_a_wrong_pin_keeps_the_phone_clears_the_pin_and_puts_the_keys_on_the_pin(
    kiosk: KioskActions,
) -> None:
    failed = kiosk.sign_in(pin="999999")
    assert failed.status_code == 401
    page = failed.get_data(as_text=True)
    assert f'value="{DEMO_PHONE}"' in field_of(page, "phone")
    assert "autofocus" not in field_of(page, "phone")
    pin = field_of(page, "pin")
    assert "value=" not in pin and "autofocus" in pin
    assert "手机号码或密码不对" in page


def test_a_mistyped_phone_stays_to_be_corrected(kiosk: KioskActions) -> None:
    failed = kiosk.sign_in(phone="1380000", pin=DEMO_PIN)
    assert failed.status_code == 422
    page = failed.get_data(as_text=True)
    assert 'value="1380000"' in field_of(page, "phone")
    assert "autofocus" in field_of(page, "phone") and "value=" not in field_of(page, "pin")


def test_after_too_many_wrong_pins_the_phone_still_stays(kiosk: KioskActions) -> None:
    for _ in range(3):
        kiosk.sign_in(pin="999999")
    failed = kiosk.sign_in(pin=DEMO_PIN)  # right, but too soon: the kiosk asks to wait
    assert failed.status_code == 429
    assert f'value="{DEMO_PHONE}"' in field_of(failed.get_data(as_text=True), "phone")


# --- 3. the next person starts in Chinese -------------------------------------------------------


def to_english(kiosk: KioskActions) -> None:
    kiosk.client.post(
        "/kiosk/language",
        data={"locale": "en", "next": "/kiosk/", "csrf_token": kiosk.csrf_token()},
    )
    assert '<html lang="en">' in kiosk.home()


def test_after_signing_out_the_kiosk_speaks_chinese_again(kiosk: KioskActions) -> None:
    to_english(kiosk)
    kiosk.sign_in()
    assert "Hello," in kiosk.home()
    signed_out = kiosk.sign_out()
    assert signed_out.headers["Location"] == "/kiosk/"
    home = kiosk.home()
    assert '<html lang="zh-CN">' in home and "借工具" in home
    assert 'data-language-chosen="false"' in home
    assert "You have signed out. Goodbye!" in home  # said to the one leaving, in their words


def test_after_the_idle_sign_out_the_kiosk_speaks_chinese_again(kiosk: KioskActions) -> None:
    to_english(kiosk)
    kiosk.sign_in()
    token = kiosk.csrf_token()
    kiosk.client.post("/kiosk/sign-out", json={"reason": "idle"}, headers={"X-CSRFToken": token})
    assert '<html lang="zh-CN">' in kiosk.home()


def test_when_the_server_ends_an_idle_session_the_next_page_is_chinese(
    kiosk: KioskActions, clock: FrozenClock
) -> None:
    to_english(kiosk)
    kiosk.sign_in()
    clock.advance(timedelta(seconds=61))
    page = kiosk.home()
    assert '<html lang="zh-CN">' in page and "为了保护您的信息，您已退出登录" in page
    assert 'data-signed-in="false"' in page and "借工具" in page


def test_a_screen_left_in_english_by_someone_not_signed_in_goes_back_to_chinese(
    kiosk: KioskActions,
) -> None:
    to_english(kiosk)
    assert 'data-language-chosen="true"' in kiosk.home()  # idle.js then posts the sign-out
    token = kiosk.csrf_token()
    answer = kiosk.client.post(
        "/kiosk/sign-out", json={"reason": "idle"}, headers={"X-CSRFToken": token}
    )
    assert answer.json == {"signed_in": False, "home": "/kiosk/"}
    home = kiosk.home()
    assert '<html lang="zh-CN">' in home and 'data-language-chosen="false"' in home
    assert 'role="status"' not in home  # nobody was signed in: no goodbye to show


def test_while_signed_in_the_chosen_language_is_kept(kiosk: KioskActions) -> None:
    to_english(kiosk)
    kiosk.sign_in()
    assert '<html lang="en">' in kiosk.client.get("/kiosk/tools").get_data(as_text=True)


# --- 5. cancelling asks once, in large words -----------------------------------------------------


@pytest.fixture
def booked(kiosk: KioskActions, app: Flask) -> int:
    """王秀英 signed in with seat 5 booked today 10:00–12:00 (the clock says 09:30)."""
    kiosk.sign_in()
    book_seat(kiosk, app, 5, start="10:00", minutes=120)
    [booking] = bookings(app)
    return booking.id


def status_of(app: Flask, booking_id: int) -> BookingStatus:
    return next(b.status for b in bookings(app) if b.id == booking_id)


def test_the_cancel_button_opens_a_page_that_asks_and_cancels_nothing(
    kiosk: KioskActions, app: Flask, booked: int
) -> None:
    listing = page(kiosk, "/kiosk/bookings")
    link = f'href="/kiosk/bookings/{booked}/cancel?from=list"'
    assert link in listing and "action-cancel" in listing
    asking = kiosk.client.get(f"/kiosk/bookings/{booked}/cancel?from=list")
    assert asking.status_code == 200
    text = asking.get_data(as_text=True)
    assert "要取消这个预约吗？" in text and "确定取消" in text and "不取消" in text
    assert "自习室" in text and "10:00" in text  # which booking, in words
    assert 'name="confirm" value="yes"' in text
    assert 'id="keep-booking" href="/kiosk/bookings"' in text
    assert "<script" not in text.split("</head>")[1]  # a page, not a pop-up
    assert status_of(app, booked) is BookingStatus.CONFIRMED


def test_yes_cancels_and_says_so(kiosk: KioskActions, app: Flask, booked: int) -> None:
    done = post(kiosk, f"/kiosk/bookings/{booked}/cancel", confirm="yes", **{"from": "list"})
    assert done.headers["Location"] == "/kiosk/bookings"
    assert status_of(app, booked) is BookingStatus.CANCELLED
    assert "预约已取消" in page(kiosk, "/kiosk/bookings")


def test_a_cancel_without_the_answer_only_asks(
    kiosk: KioskActions, app: Flask, booked: int
) -> None:
    for answer in ({}, {"confirm": "no"}, {"confirm": ""}):
        sent = post(kiosk, f"/kiosk/bookings/{booked}/cancel", **answer)
        assert sent.headers["Location"] == f"/kiosk/bookings/{booked}/cancel?from=list"
    assert status_of(app, booked) is BookingStatus.CONFIRMED


def test_from_the_slip_the_question_goes_back_to_the_slip(
    kiosk: KioskActions, app: Flask, booked: int
) -> None:
    slip = page(kiosk, f"/kiosk/bookings/{booked}")
    assert f'href="/kiosk/bookings/{booked}/cancel?from=slip"' in slip
    asking = page(kiosk, f"/kiosk/bookings/{booked}/cancel?from=slip")
    assert f'id="keep-booking" href="/kiosk/bookings/{booked}"' in asking
    done = post(kiosk, f"/kiosk/bookings/{booked}/cancel", confirm="yes", **{"from": "slip"})
    assert done.headers["Location"] == f"/kiosk/bookings/{booked}"


def test_a_booking_that_can_no_longer_be_cancelled_is_not_asked_about(
    kiosk: KioskActions, app: Flask, booked: int
) -> None:
    post(kiosk, f"/kiosk/bookings/{booked}/cancel", confirm="yes")
    again = kiosk.client.get(f"/kiosk/bookings/{booked}/cancel?from=list")
    assert again.headers["Location"] == "/kiosk/bookings"


def test_someone_elses_booking_has_no_question_page(
    kiosk: KioskActions, app: Flask, booked: int
) -> None:
    kiosk.sign_out()
    kiosk.sign_in("13800000002", "386204")
    assert kiosk.client.get(f"/kiosk/bookings/{booked}/cancel").status_code == 404


def test_the_question_page_needs_a_sign_in_and_comes_back_to_it(
    kiosk: KioskActions, booked: int
) -> None:
    kiosk.sign_out()
    asked = kiosk.client.get(f"/kiosk/bookings/{booked}/cancel?from=list")
    assert next_of(asked.headers["Location"]) == f"/kiosk/bookings/{booked}/cancel?from=list"
