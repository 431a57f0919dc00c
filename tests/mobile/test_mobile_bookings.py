"""Bookings from the phone: a study seat for tomorrow by the kiosk's rules, the list, and
cancelling after a confirmation page; nobody else's booking, and no check-in from home."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from booking.spaces.models.bookings import BookingStatus
from tests.kiosk.booking_helpers import TODAY, TOMORROW, bookings, seat_id
from tests.mobile.conftest import (
    DEMO_PHONE,
    DEMO_PIN,
    OTHER_PHONE,
    OTHER_PIN,
    PhoneActions,
    alert_of,
    resident_id,
)


@pytest.fixture
def signed_in(phone: PhoneActions) -> PhoneActions:
    assert phone.sign_in().status_code == 302
    return phone


def book(phone: PhoneActions, app: Flask, number: int, day: str = TOMORROW,
         start: str = "10:00", minutes: int = 120) -> int:  # fmt: skip
    response = phone.post("/m/seats/book", day=day, start=start, minutes=minutes,
                          seat_id=seat_id(app, number))  # fmt: skip
    assert response.status_code == 302, alert_of(response.get_data(as_text=True))
    return bookings(app)[-1].id


def test_the_seat_page_offers_today_and_tomorrow_and_lists_free_seats(
    signed_in: PhoneActions,
) -> None:
    text = signed_in.page(f"/m/seats?day={TOMORROW}&start=10:00&minutes=120")
    assert f'value="{TODAY}"' in text and f'value="{TOMORROW}" selected' in text
    assert "明天" in text
    assert len(re.findall(r'class="button button-primary book-seat"', text)) == 24


def test_booking_a_seat_for_tomorrow_shows_it_under_my_bookings(
    signed_in: PhoneActions, app: Flask
) -> None:
    booked = book(signed_in, app, 5)
    [row] = bookings(app)
    assert row.status is BookingStatus.CONFIRMED
    assert row.resident_id == resident_id(app)
    text = signed_in.page("/m/bookings")
    assert f'data-booking="{booked}" data-status="confirmed"' in text
    assert "自习室，5号座" in text
    # The seat is no longer offered to anyone for that time.
    seats = signed_in.page(f"/m/seats?day={TOMORROW}&start=10:00&minutes=120")
    assert 'data-seat="5"' not in seats


def test_a_taken_seat_is_refused_in_the_kiosks_words(signed_in: PhoneActions, app: Flask) -> None:
    book(signed_in, app, 5)
    signed_in.post("/m/sign-out")
    signed_in.sign_in(OTHER_PHONE, OTHER_PIN)
    response = signed_in.post("/m/seats/book", day=TOMORROW, start="10:00", minutes=120,
                              seat_id=seat_id(app, 5))  # fmt: skip
    assert response.status_code == 409
    assert "别人刚刚约走了这个时间" in alert_of(response.get_data(as_text=True))
    assert len(bookings(app)) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"day": TOMORROW, "start": "10:00", "minutes": "120", "seat_id": "abc"},
        {"day": TOMORROW, "start": "10:00", "minutes": "120", "seat_id": ""},
        {"day": "tomorrow", "start": "10:00", "minutes": "120", "seat_id": "SEAT"},
        {"day": "2026-02-30", "start": "10:00", "minutes": "120", "seat_id": "SEAT"},
        {"day": TOMORROW, "start": "25:00", "minutes": "120", "seat_id": "SEAT"},
        {"day": TOMORROW, "start": "10:10", "minutes": "120", "seat_id": "SEAT"},
        {"day": TOMORROW, "start": "10:00", "minutes": "-5", "seat_id": "SEAT"},
        {"day": TOMORROW, "start": "10:00", "minutes": "9999", "seat_id": "SEAT"},
        {"day": "2027-11-25", "start": "10:00", "minutes": "120", "seat_id": "SEAT"},
        # Moved to UTC, year 1's opening time overflowed: a 500 before any rule.
        {"day": "0001-01-01", "start": "15:00", "minutes": "60", "seat_id": "SEAT"},
        {"day": "9999-12-31", "start": "15:00", "minutes": "60", "seat_id": "SEAT"},
        {"day": TOMORROW, "start": "10:00", "minutes": "120", "seat_id": "999999"},
    ],
)
def test_bad_booking_input_is_refused_in_words_and_books_nothing(
    signed_in: PhoneActions, app: Flask, fields: dict[str, str]
) -> None:
    if fields["seat_id"] == "SEAT":
        fields = {**fields, "seat_id": str(seat_id(app, 5))}
    response = signed_in.post("/m/seats/book", **fields)
    assert 400 <= response.status_code < 500
    assert alert_of(response.get_data(as_text=True))
    assert bookings(app) == []


@pytest.mark.parametrize(
    "query", ["day=x&start=y&minutes=z", "room=abc", "room=999999", "day=1999-01-01", "minutes=0"]
)
def test_odd_seat_page_queries_still_show_a_page(signed_in: PhoneActions, query: str) -> None:
    assert signed_in.client.get(f"/m/seats?{query}").status_code == 200


def test_cancelling_asks_first_and_then_cancels_through_the_kiosks_service(
    signed_in: PhoneActions, app: Flask
) -> None:
    booked = book(signed_in, app, 5)
    asking = signed_in.page(f"/m/bookings/{booked}/cancel")
    assert 'id="confirm-cancel"' in asking and "自习室，5号座" in asking
    # A post without the confirmation's "yes" only asks again.
    response = signed_in.post(f"/m/bookings/{booked}/cancel")
    assert response.headers["Location"] == f"/m/bookings/{booked}/cancel"
    assert bookings(app)[0].status is BookingStatus.CONFIRMED
    response = signed_in.post(f"/m/bookings/{booked}/cancel", confirm="yes")
    assert response.headers["Location"] == "/m/bookings"
    assert bookings(app)[0].status is BookingStatus.CANCELLED
    assert "预约已取消" in signed_in.page("/m/bookings")


def test_another_residents_booking_is_never_shown_nor_cancelled(
    signed_in: PhoneActions, app: Flask
) -> None:
    booked = book(signed_in, app, 5)
    signed_in.post("/m/sign-out")
    signed_in.sign_in(OTHER_PHONE, OTHER_PIN)
    assert f'data-booking="{booked}"' not in signed_in.page("/m/bookings")
    assert signed_in.client.get(f"/m/bookings/{booked}/cancel").status_code == 404
    assert signed_in.post(f"/m/bookings/{booked}/cancel", confirm="yes").status_code == 404
    assert bookings(app)[0].status is BookingStatus.CONFIRMED


def test_there_is_no_check_in_from_the_phone(signed_in: PhoneActions, app: Flask) -> None:
    booked = book(signed_in, app, 5, day=TODAY, start="09:30")  # under way: check-in is open
    signed_in.client.post("/kiosk/sign-in", data={
        "phone": DEMO_PHONE, "pin": DEMO_PIN, "csrf_token": signed_in.csrf_token(),
    })  # fmt: skip
    assert "action-check-in" in signed_in.page("/kiosk/bookings")  # the kiosk offers it
    assert "action-check-in" not in signed_in.page("/m/bookings")
    for action in ("check-in", "step-out", "come-back", "leave"):
        assert signed_in.post(f"/m/bookings/{booked}/{action}").status_code in (404, 405)
    assert bookings(app)[0].status is BookingStatus.CONFIRMED
