"""A resident's private calendar feed: made on the phone, read by any calendar app with
``icalendar``, holding their bookings and loan due dates only, and 404 once revoked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from flask import Flask
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.lending.loans import start_loan
from booking.lending.models.loans import LoanChannel
from booking.lending.models.tools import Item
from booking.people.models.calendar_feeds import CalendarFeed
from booking.people.models.residents import Resident
from booking.spaces.models.bookings import BookingStatus
from booking.spaces.models.spaces import Space
from kiosk.extensions import database
from tests.conftest import StaffActions
from tests.kiosk.booking_helpers import TOMORROW, bookings, seat_id
from tests.mobile.conftest import OTHER_PHONE, OTHER_PIN, PhoneActions, resident_id


@pytest.fixture
def signed_in(phone: PhoneActions) -> PhoneActions:
    assert phone.sign_in().status_code == 302
    return phone


def make_feed(phone: PhoneActions) -> str:
    """Make (or renew) the feed on /m and return the https path the webcal:// link names."""
    assert phone.post("/m/calendar/renew").headers["Location"] == "/m/calendar"
    text = phone.page("/m/calendar")
    match = re.search(r'id="feed-url">webcal://localhost(/m/feed/[A-Za-z0-9_-]{43}\.ics)<', text)
    assert match, "no webcal:// link on the page"
    assert 'class="qr-code"' in text
    return match.group(1)


def lend_a_counter_tool(app: Flask, clock: FrozenClock, phone: str) -> None:
    with app.app_context(), database().write() as session:
        item = session.scalars(select(Item).where(Item.locker_device_id.is_(None))).first()
        assert item is not None
        start_loan(session, item=item, resident_id=resident_id(app, phone),
                   channel=LoanChannel.COUNTER, now=clock.now(), loan_days=7)  # fmt: skip


def test_the_feed_holds_my_bookings_and_loan_due_dates_as_icalendar(
    signed_in: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    signed_in.post("/m/seats/book", day=TOMORROW, start="10:00", minutes=120,
                   seat_id=seat_id(app, 5))  # fmt: skip
    [booking] = bookings(app)
    lend_a_counter_tool(app, clock, "13800000001")
    path = make_feed(signed_in)
    # A calendar app brings no cookie.
    signed_in.client.delete_cookie("linli_phone", path="/m")
    response = signed_in.client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == "我的中心日历"
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    seat = events[f"booking-{booking.id}@xinhua.linli"]
    assert seat.decoded("DTSTART") == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert seat.decoded("DTEND") == datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
    assert seat.decoded("DTSTAMP") == clock.now()
    assert str(seat["SUMMARY"]) == "自习室，5号座"
    assert str(seat["STATUS"]) == "CONFIRMED"
    [due] = [event for uid, event in events.items() if uid.startswith("loan-")]
    assert due.decoded("DTSTART") == clock.now() + timedelta(days=7)
    assert str(due["SUMMARY"]).startswith("归还")


def test_a_cancelled_booking_stays_in_the_feed_marked_cancelled(
    signed_in: PhoneActions, app: Flask
) -> None:
    signed_in.post("/m/seats/book", day=TOMORROW, start="10:00", minutes=120,
                   seat_id=seat_id(app, 5))  # fmt: skip
    [booking] = bookings(app)
    signed_in.post(f"/m/bookings/{booking.id}/cancel", confirm="yes")
    path = make_feed(signed_in)
    [event] = icalendar.Calendar.from_ical(signed_in.client.get(path).data).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


def test_another_residents_bookings_are_not_in_my_feed(signed_in: PhoneActions, app: Flask) -> None:
    path = make_feed(signed_in)
    signed_in.post("/m/sign-out")
    signed_in.sign_in(OTHER_PHONE, OTHER_PIN)
    signed_in.post("/m/seats/book", day=TOMORROW, start="10:00", minutes=120,
                   seat_id=seat_id(app, 7))  # fmt: skip
    assert len(bookings(app)) == 1
    calendar = icalendar.Calendar.from_ical(signed_in.client.get(path).data)
    assert calendar.walk("VEVENT") == []


def test_a_revoked_feed_answers_404_and_the_page_offers_a_new_one(
    signed_in: PhoneActions, app: Flask
) -> None:
    path = make_feed(signed_in)
    assert signed_in.client.get(path).status_code == 200
    response = signed_in.post("/m/calendar/revoke")
    assert response.headers["Location"] == "/m/calendar"
    assert signed_in.client.get(path).status_code == 404
    text = signed_in.page("/m/calendar")
    assert 'id="make-feed"' in text and "webcal://" not in text


def test_renewing_stops_the_old_address_at_once(signed_in: PhoneActions, app: Flask) -> None:
    old = make_feed(signed_in)
    new = make_feed(signed_in)
    assert new != old
    assert signed_in.client.get(old).status_code == 404
    assert signed_in.client.get(new).status_code == 200
    with app.app_context(), database().read() as session:
        rows = session.scalars(select(CalendarFeed).order_by(CalendarFeed.id)).all()
        assert [row.is_live for row in rows] == [False, True]
        assert rows[0].revoked_by == f"resident:{resident_id(app)}"


@pytest.mark.parametrize(
    ("token", "status"),
    [
        ("x", 404), ("A" * 43, 404), ("..%2F..%2Fetc%2Fpasswd", 404), ("A" * 200, 404),
        ("é" * 43, 404),
        ("%00" * 20, 400),  # refused by the app's input guard before any route
    ],
)  # fmt: skip
def test_unknown_or_odd_feed_addresses_answer_404(
    signed_in: PhoneActions, token: str, status: int
) -> None:
    make_feed(signed_in)
    assert signed_in.client.get(f"/m/feed/{token}.ics").status_code == status


def test_a_deactivated_residents_feed_answers_404(
    signed_in: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    path = make_feed(signed_in)
    with app.app_context(), database().write() as session:
        feed = session.scalars(select(CalendarFeed)).one()
        session.get_one(Resident, feed.resident_id).deactivated_at = clock.now()
    assert signed_in.client.get(path).status_code == 404


def test_staff_stop_the_link_from_the_residents_page(
    signed_in: PhoneActions, app: Flask, staff_auth: StaffActions
) -> None:
    path = make_feed(signed_in)
    staff_auth.sign_in()
    page = signed_in.client.get(f"/staff/residents/{resident_id(app)}").get_data(as_text=True)
    assert "revoke-feed" in page
    response = signed_in.client.post(
        f"/staff/residents/{resident_id(app)}/calendar-feed/revoke",
        data={"csrf_token": staff_auth.csrf_token()},
    )
    assert response.status_code == 303
    assert signed_in.client.get(path).status_code == 404
    with app.app_context(), database().read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "resident.calendar_feed_revoked")
        ).one()
        assert entry.staff_id is not None


def test_a_room_request_waiting_for_staff_is_tentative_in_the_feed(
    signed_in: PhoneActions, app: Flask
) -> None:
    with app.app_context(), database().write() as session:
        room = session.scalars(select(Space).where(Space.code == "dance")).one()
        room.needs_approval = True
        room_id = room.id
    signed_in.post("/m/rooms/book", room=room_id, day=TOMORROW, start="14:00", minutes=60,
                   headcount=6, purpose="exercise", details="")  # fmt: skip
    [booking] = bookings(app)
    assert booking.status is BookingStatus.PENDING
    path = make_feed(signed_in)
    [event] = icalendar.Calendar.from_ical(signed_in.client.get(path).data).walk("VEVENT")
    assert str(event["STATUS"]) == "TENTATIVE"
    assert str(event["SUMMARY"]) == "舞蹈室"
