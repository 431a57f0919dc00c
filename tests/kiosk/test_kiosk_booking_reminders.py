"""A booking reminder at the kiosk: among the resident's new messages, in their language."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from booking.core.clock import FrozenClock
from booking.spaces import jobs as booking_jobs
from kiosk.extensions import database
from tests.kiosk.booking_helpers import book_seat, page, room_id
from tests.kiosk.conftest import KioskActions
from tests.kiosk.test_kiosk_language import switch
from tests.kiosk.test_kiosk_rooms import book_room


def remind_at_13_30(kiosk: KioskActions, app: Flask, clock: FrozenClock) -> None:
    """王秀英 books seat 5 for 14:00–16:00 at 09:30 and comes back at 13:30, reminded."""
    kiosk.sign_in()
    book_seat(kiosk, app, 5, start="14:00", minutes=120)
    kiosk.sign_out()
    clock.advance(timedelta(hours=4))
    with app.app_context():
        assert booking_jobs.run_due(database(), now=clock.now()) == 1


def test_a_seat_reminder_is_shown_among_the_new_messages_with_the_check_in_window(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    remind_at_13_30(kiosk, app, clock)
    assert kiosk.sign_in().headers["Location"] == "/kiosk/bookings"
    text = page(kiosk, "/kiosk/bookings")
    assert 'class="notice notice-message notice-booking_reminder"' in text
    assert (
        "提醒：您预约了自习室，5号座（11月24日周二 14:00–16:00）。"
        "请在 13:45 至 14:15 之间在自助机上签到，否则座位会被释放。"
    ) in text


def test_a_seat_reminder_is_in_english_when_the_kiosk_is(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    remind_at_13_30(kiosk, app, clock)
    kiosk.sign_in()
    switch(kiosk, "en")
    text = page(kiosk, "/kiosk/bookings")
    assert (
        "Reminder: you have booked Study room, seat 5, Tue, Nov 24 14:00–16:00. "
        "Please check in at the kiosk between 13:45 and 14:15, "
        "or the seat will be released."
    ) in text


def test_a_room_reminder_is_shown_an_hour_ahead_with_the_room_and_time(
    kiosk: KioskActions, app: Flask, clock: FrozenClock
) -> None:
    kiosk.sign_in()
    book_room(kiosk, room_id(app, "dance"), start="14:00", minutes=60, purpose="exercise")
    kiosk.sign_out()
    clock.advance(timedelta(hours=3, minutes=30))  # 13:00
    with app.app_context():
        assert booking_jobs.run_due(database(), now=clock.now()) == 1
    kiosk.sign_in()
    assert "提醒：您预约了舞蹈室（11月24日周二 14:00–15:00），请按时前来。" in page(
        kiosk, "/kiosk/bookings"
    )
