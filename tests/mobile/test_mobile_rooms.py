"""Booking an activity room from the phone: the kiosk's choices, rules and refusals, for a
group of a size the room holds, and a request where the room needs the staff's approval."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from booking.spaces.models.bookings import BookingStatus
from booking.spaces.models.spaces import Space
from kiosk.extensions import database
from tests.kiosk.booking_helpers import TOMORROW, bookings, room_id
from tests.mobile.conftest import PhoneActions, alert_of


@pytest.fixture
def signed_in(phone: PhoneActions) -> PhoneActions:
    assert phone.sign_in().status_code == 302
    return phone


def book(phone: PhoneActions, app: Flask, **changes: str | int) -> TestResponse:
    fields: dict[str, str | int] = {"room": room_id(app, "table-tennis"), "day": TOMORROW,
                                    "start": "14:00", "minutes": 60, "headcount": 4,
                                    "purpose": "games", "details": ""}  # fmt: skip
    return phone.post("/m/rooms/book", **{**fields, **changes})


def test_the_room_page_offers_the_rooms_days_and_starts(
    signed_in: PhoneActions, app: Flask
) -> None:
    text = signed_in.page(f"/m/rooms?room={room_id(app, 'table-tennis')}&day={TOMORROW}")
    assert "乒乓球室" in text and "舞蹈室" in text
    assert f'value="{TOMORROW}" selected' in text
    assert "几个人？（最多 8 人）" in text


def test_booking_a_room_for_tomorrow_shows_it_under_my_bookings(
    signed_in: PhoneActions, app: Flask
) -> None:
    response = book(signed_in, app)
    assert response.status_code == 302
    [row] = bookings(app)
    assert row.status is BookingStatus.CONFIRMED and row.headcount == 4
    assert "乒乓球室" in signed_in.page("/m/bookings")


def test_a_room_that_needs_approval_is_sent_as_a_request(
    signed_in: PhoneActions, app: Flask
) -> None:
    with app.app_context(), database().write() as session:
        session.scalars(
            select(Space).where(Space.code == "table-tennis")
        ).one().needs_approval = True
    book(signed_in, app)
    [row] = bookings(app)
    assert row.status is BookingStatus.PENDING


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"headcount": "9"}, "最多"),
        ({"headcount": "abc"}, "几个人"),
        ({"headcount": ""}, "几个人"),
        ({"purpose": "party"}, ""),
        ({"room": "abc"}, ""),
        ({"room": "999999"}, ""),
        ({"day": "2026-13-01"}, ""),
        ({"day": "0001-01-01"}, ""),
        ({"day": "0001-01-01", "start": "00:00"}, ""),
        ({"day": "9999-12-31"}, ""),
        ({"start": "14:10"}, ""),
        ({"minutes": "0"}, ""),
    ],
)
def test_bad_room_input_is_refused_in_words_and_books_nothing(
    signed_in: PhoneActions, app: Flask, changes: dict[str, str], words: str
) -> None:
    response = book(signed_in, app, **changes)
    assert 400 <= response.status_code < 500
    assert words in alert_of(response.get_data(as_text=True))
    assert bookings(app) == []
