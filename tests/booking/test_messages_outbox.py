"""Every message kind of the spaces goes through the outbox, in the transaction of its
notice, and the worker sends it: not in quiet hours, not to a resident who turned it off, and
a failed send is retried with backoff until it is given up and shown to staff."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from booking_centre import Centre, at, book_room
from messages_phone import Phone, outbox_rows

from booking.alerts.models.alerts import StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.messages import outbox, preferences, sending
from booking.messages.models.outbox import MessageState, OutboxMessage
from booking.messages.templates import render
from booking.spaces import closures, releases, rooms, seats, strikes, waitlist
from booking.spaces import jobs as booking_jobs
from booking.spaces.models.bookings import Booking


def send(db: Database, phone: Phone, now: datetime) -> sending.Round:
    return sending.send_due(db, {outbox.SMS: phone}, now=now)


def book_seat(db: Database, c: Centre, start: datetime, end: datetime, now: datetime) -> int:
    with db.write() as session:
        return seats.book_seat(
            session, resident_id=c.residents[0], seat_id=c.seats[0], starts_at=start,
            ends_at=end, now=now,
        ).id  # fmt: skip


def test_a_booking_reminder_goes_out_with_its_notice_and_the_worker_sends_it(
    any_database: Database, centre: Centre
) -> None:
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    booking_jobs.run_due(any_database, now=at(13, 30))
    [message] = outbox_rows(any_database, "booking_reminder")
    assert message.state is MessageState.QUEUED
    assert (message.phone, message.language) == ("13900000001", "zh_CN")
    assert message.params == ["自习室", "11-24 14:00"]
    assert message.notification_id is not None
    phone = Phone()
    assert send(any_database, phone, at(13, 30)) == sending.Round(sent=1)
    [got] = phone.received
    assert render(got.kind, got.language, list(got.params)) == (
        "【邻里】提醒：您预约的自习室将于11-24 14:00开始。"
    )
    [message] = outbox_rows(any_database, "booking_reminder")
    assert (message.state, message.attempts, message.provider_ref) == (
        MessageState.SENT,
        1,
        f"ref-{message.id}",
    )
    assert send(any_database, phone, at(13, 31)) == sending.Round()


def test_an_approval_and_a_rejection_with_its_reason(
    any_database: Database, centre: Centre
) -> None:
    approved = book_room(any_database, centre, centre.meeting_id, at(14), at(16))
    rejected = book_room(any_database, centre, centre.meeting_id, at(17), at(19), who=1)
    with any_database.write() as session:
        rooms.approve(session, staff_id=centre.staff_id, site_id=centre.site_id,
                      booking_id=approved.id, now=at(10))  # fmt: skip
        rooms.reject(session, staff_id=centre.staff_id, site_id=centre.site_id,
                     booking_id=rejected.id, reason="当天有社区会议", now=at(10))  # fmt: skip
    [approval] = outbox_rows(any_database, "booking_approved")
    assert approval.params == ["议事室", "11-24 14:00"]
    [rejection] = outbox_rows(any_database, "booking_rejected")
    assert (rejection.phone, rejection.params) == (
        "13900000002",
        ["议事室", "11-24 17:00", "当天有社区会议"],
    )


def test_a_waitlist_offer_says_how_long_the_place_is_held(
    any_database: Database, centre: Centre
) -> None:
    taken = book_room(any_database, centre, centre.dance_id, at(14), at(16))
    with any_database.write() as session:
        waitlist.join(session, resident_id=centre.residents[1], space_id=centre.dance_id,
                      starts_at=at(14), ends_at=at(16), headcount=4, now=at(9, 30))  # fmt: skip
    with any_database.write() as session:
        releases.cancel(session, resident_id=centre.residents[0], booking_id=taken.id, now=at(10))
    [offer] = outbox_rows(any_database, "waitlist_offer")
    assert (offer.phone, offer.params) == ("13900000002", ["舞蹈室", "11-24 14:00", "11-24 10:30"])


def test_a_no_show_and_the_suspension_with_when_it_ends(
    any_database: Database, centre: Centre
) -> None:
    booking_id = book_seat(any_database, centre, at(14), at(16), at(9, 30))
    with any_database.write() as session:
        strikes.give_strike(
            session, session.get_one(Booking, booking_id), now=at(14, 30), strikes_to_suspend=1,
            window=timedelta(days=30), suspension=timedelta(days=7),
        )  # fmt: skip
    [no_show] = outbox_rows(any_database, "no_show")
    assert no_show.params == ["自习室", "11-24 14:00"]
    [suspended] = outbox_rows(any_database, "suspended")
    assert suspended.params == ["12-01 14:30"]


def test_a_closure_tells_each_resident_once_with_the_reason(
    any_database: Database, centre: Centre
) -> None:
    book_room(any_database, centre, centre.dance_id, at(14), at(16))
    with any_database.write() as session:
        closures.declare_closure(
            session, staff_id=centre.staff_id, site_id=centre.site_id, starts_at=at(12),
            ends_at=at(18), reason="停电检修", now=at(10), space_id=centre.dance_id,
        )  # fmt: skip
    [closure] = outbox_rows(any_database, "closure")
    assert closure.params == ["舞蹈室", "11-24 14:00", "停电检修"]


def test_a_message_in_quiet_hours_waits_until_they_end(
    any_database: Database, centre: Centre
) -> None:
    rejected = book_room(any_database, centre, centre.meeting_id, at(14, days=1), at(16, days=1))
    with any_database.write() as session:
        rooms.reject(session, staff_id=centre.staff_id, site_id=centre.site_id,
                     booking_id=rejected.id, reason="已满", now=at(22))  # fmt: skip
    phone = Phone()
    assert send(any_database, phone, at(22)) == sending.Round(deferred=1)
    [message] = outbox_rows(any_database)
    assert (message.state, message.attempts) == (MessageState.QUEUED, 0)
    assert message.next_attempt_at == at(8, days=1)
    assert send(any_database, phone, at(7, 59, days=1)) == sending.Round()
    assert send(any_database, phone, at(8, days=1)) == sending.Round(sent=1)
    assert [m.message_id for m in phone.received] == [message.id]


def test_a_site_sets_its_own_quiet_hours(any_database: Database, centre: Centre) -> None:
    with any_database.write() as session:
        site = session.get_one(Site, centre.site_id)
        site.quiet_from, site.quiet_until = time(12), time(14)
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    booking_jobs.run_due(any_database, now=at(13, 30))
    assert send(any_database, Phone(), at(13, 30)) == sending.Round(deferred=1)
    assert send(any_database, Phone(), at(14)) == sending.Round(sent=1)


def test_a_resident_who_turned_a_kind_off_gets_its_notice_but_no_message(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        preferences.choose(session, resident_id=centre.residents[0], kind="booking_reminder",
                           sms=False, now=clock.now())  # fmt: skip
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    assert booking_jobs.run_due(any_database, now=at(13, 30)) == 1
    assert outbox_rows(any_database) == []
    with any_database.read() as session:
        choices = preferences.choices_of(session, resident_id=centre.residents[0])
    assert choices["booking_reminder"] is False and choices["booking_approved"] is True


def test_a_failed_send_is_retried_after_a_doubling_backoff(
    any_database: Database, centre: Centre
) -> None:
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    booking_jobs.run_due(any_database, now=at(13, 30))
    phone = Phone()
    phone.refuse_with = "LimitExceeded.PhoneNumberDailyLimit"
    assert send(any_database, phone, at(13, 30)) == sending.Round(failed=1)
    [message] = outbox_rows(any_database)
    assert (message.state, message.next_attempt_at) == (MessageState.RETRYING, at(13, 31))
    assert message.last_error == "LimitExceeded.PhoneNumberDailyLimit"
    assert send(any_database, phone, at(13, 30) + timedelta(seconds=30)) == sending.Round()
    assert send(any_database, phone, at(13, 31)) == sending.Round(failed=1)
    assert outbox_rows(any_database)[0].next_attempt_at == at(13, 33)
    phone.refuse_with = ""
    assert send(any_database, phone, at(13, 33)) == sending.Round(sent=1)
    [message] = outbox_rows(any_database)
    assert (message.state, message.attempts, message.last_error) == (MessageState.SENT, 3, "")


def test_a_message_that_never_goes_is_given_up_and_staff_are_alerted(
    any_database: Database, centre: Centre
) -> None:
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    booking_jobs.run_due(any_database, now=at(13, 30))
    phone = Phone()
    phone.refuse_with = "InvalidParameterValue.IncorrectPhoneNumber"
    now = at(13, 30)
    for _ in range(sending.MAX_ATTEMPTS):
        assert send(any_database, phone, now) == sending.Round(failed=1)
        [message] = outbox_rows(any_database)
        now = message.next_attempt_at
    assert message.state is MessageState.GAVE_UP and message.attempts == sending.MAX_ATTEMPTS
    assert send(any_database, phone, now + timedelta(hours=1)) == sending.Round()
    with any_database.read() as session:
        [alert] = session.query(StaffAlert).filter_by(kind="message.gave_up").all()
        assert (alert.resident_id, alert.params["attempts"]) == (centre.residents[0], 5)
        assert [m.id for m in outbox.given_up(session, site_id=centre.site_id)] == [message.id]


def test_a_message_still_waiting_a_day_after_it_was_written_is_dropped_and_staff_told(
    any_database: Database, centre: Centre
) -> None:
    # The worker was stopped: a reminder for a booking long past must not reach the phone
    # when it comes back, but staff learn that the resident was never told.
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    booking_jobs.run_due(any_database, now=at(13, 30))
    phone = Phone()
    assert send(any_database, phone, at(13, 30) + sending.MAX_AGE) == sending.Round()
    assert phone.received == []
    [message] = outbox_rows(any_database)
    assert (message.state, message.attempts) == (MessageState.GAVE_UP, 0)
    assert "24 hours" in message.last_error
    with any_database.read() as session:
        [alert] = session.query(StaffAlert).filter_by(kind="message.expired").all()
        assert (alert.resident_id, alert.params["hours"]) == (centre.residents[0], 24)
        assert [m.id for m in outbox.given_up(session, site_id=centre.site_id)] == [message.id]


def test_a_message_held_by_a_failing_provider_for_most_of_a_day_still_goes(
    any_database: Database, centre: Centre
) -> None:
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    booking_jobs.run_due(any_database, now=at(13, 30))
    phone = Phone()
    phone.refuse_with = "ProviderDown"
    assert send(any_database, phone, at(13, 30)) == sending.Round(failed=1)
    phone.refuse_with = ""
    later = at(13, 30) + sending.MAX_AGE - timedelta(minutes=1)
    assert send(any_database, phone, later) == sending.Round(sent=1)


def test_a_message_left_sending_by_a_worker_that_died_is_tried_again(
    any_database: Database, centre: Centre
) -> None:
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    booking_jobs.run_due(any_database, now=at(13, 30))
    with any_database.write() as session:
        session.query(OutboxMessage).one().start_sending(at(13, 30))
    phone = Phone()
    assert send(any_database, phone, at(13, 35)) == sending.Round()
    send(any_database, phone, at(13, 40))
    [message] = outbox_rows(any_database)
    assert (message.state, message.attempts) == (MessageState.RETRYING, 1)
    assert send(any_database, phone, at(13, 41)) == sending.Round(sent=1)


def test_no_message_without_a_channel_is_lost_silently(
    any_database: Database, centre: Centre
) -> None:
    book_seat(any_database, centre, at(14), at(16), at(9, 30))
    booking_jobs.run_due(any_database, now=at(13, 30))
    assert sending.send_due(any_database, {}, now=at(13, 30)) == sending.Round(failed=1)
    assert outbox_rows(any_database)[0].last_error == "no sms channel is configured"


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_notice_kind_without_its_own_template_goes_out_with_the_generic_one(
    language: str,
) -> None:
    text = render("tool_ready", language, [])
    assert "{" not in text and ("自助机" in text or "kiosk" in text)
