"""One reminder before a booking starts: a seat's as check-in is about to open, a room's an
hour ahead; sent once, late after an outage only while the booking has not started."""

from __future__ import annotations

from datetime import date, datetime, time

from booking_centre import Centre, at
from sqlalchemy import Row, select

from booking.alerts.models.notifications import Notification, NotificationKind
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.spaces import jobs as booking_jobs
from booking.spaces import releases, reminders, rooms, seats, series
from booking.spaces.models.space_rules import SpaceRules


def book_seat(db: Database, c: Centre, clock: FrozenClock, start: datetime, end: datetime) -> int:
    with db.write() as session:
        return seats.book_seat(
            session,
            resident_id=c.residents[0],
            seat_id=c.seats[0],
            starts_at=start,
            ends_at=end,
            now=clock.now(),
        ).id


def book_room(db: Database, c: Centre, clock: FrozenClock, space: int, start: datetime) -> int:
    with db.write() as session:
        return rooms.book_room(
            session,
            resident_id=c.residents[0],
            space_id=space,
            starts_at=start,
            ends_at=start.replace(hour=start.hour + 2),
            headcount=5,
            now=clock.now(),
        ).id


def reminders_sent(db: Database) -> list[Row[tuple[int, int | None, str, datetime | None]]]:
    """Each reminder's resident, booking, detail and read time."""
    with db.read() as session:
        return list(
            session.execute(
                select(
                    Notification.resident_id,
                    Notification.booking_id,
                    Notification.detail,
                    Notification.read_at,
                ).where(Notification.kind == NotificationKind.BOOKING_REMINDER)
            )
        )


def test_a_seat_reminder_is_sent_as_check_in_is_about_to_open_with_the_window(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_seat(any_database, centre, clock, at(14), at(16))
    assert booking_jobs.run_due(any_database, now=at(13, 30)) == 1
    [reminder] = reminders_sent(any_database)
    assert (reminder.resident_id, reminder.booking_id) == (centre.residents[0], booking_id)
    assert reminder.detail == f"{at(13, 45).isoformat()}\n{at(14, 15).isoformat()}"
    assert reminder.read_at is None


def test_no_reminder_before_its_moment(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book_seat(any_database, centre, clock, at(14), at(16))
    assert booking_jobs.run_due(any_database, now=at(13, 29)) == 0
    assert reminders_sent(any_database) == []


def test_running_the_reminder_job_again_sends_no_second_reminder(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_seat(any_database, centre, clock, at(14), at(16))
    booking_jobs.run_due(any_database, now=at(13, 30))
    assert booking_jobs.run_due(any_database, now=at(13, 31)) == 0
    # Even called directly (a restarted worker replaying the job), it sends nothing more.
    with any_database.write() as session:
        assert not reminders.send_reminder(session, booking_id=booking_id, now=at(13, 40))
    assert len(reminders_sent(any_database)) == 1


def test_a_room_reminder_comes_an_hour_before_the_start(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_room(any_database, centre, clock, centre.dance_id, at(14))
    assert booking_jobs.run_due(any_database, now=at(12, 59)) == 0
    assert booking_jobs.run_due(any_database, now=at(13)) == 1
    [reminder] = reminders_sent(any_database)
    assert (reminder.booking_id, reminder.detail) == (booking_id, "")


def test_a_cancelled_booking_gets_no_reminder(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_seat(any_database, centre, clock, at(14), at(16))
    with any_database.write() as session:
        releases.cancel(session, resident_id=centre.residents[0], booking_id=booking_id, now=at(11))
    booking_jobs.run_due(any_database, now=at(13, 30))
    assert reminders_sent(any_database) == []


def test_a_seat_checked_in_and_left_while_the_job_was_down_gets_no_reminder(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_seat(any_database, centre, clock, at(14), at(16))
    for action, now in ((seats.check_in, at(13, 45)), (seats.leave, at(13, 50))):
        with any_database.write() as session:
            action(session, resident_id=centre.residents[0], booking_id=booking_id, now=now)
    booking_jobs.run_due(any_database, now=at(13, 55))
    assert reminders_sent(any_database) == []


def test_a_reminder_missed_during_an_outage_is_sent_late_while_the_booking_has_not_started(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book_seat(any_database, centre, clock, at(14), at(16))
    assert booking_jobs.run_due(any_database, now=at(13, 59)) == 1
    assert len(reminders_sent(any_database)) == 1


def test_no_reminder_once_the_booking_has_started_after_an_outage(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_seat(any_database, centre, clock, at(14), at(16))
    booking_jobs.run_due(any_database, now=at(14))
    with any_database.write() as session:
        assert not reminders.send_reminder(session, booking_id=booking_id, now=at(14, 1))
    assert reminders_sent(any_database) == []


def test_a_room_booking_pending_approval_gets_no_reminder_until_approved(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_room(any_database, centre, clock, centre.meeting_id, at(14))
    assert booking_jobs.run_due(any_database, now=at(13)) == 0
    assert reminders_sent(any_database) == []
    with any_database.write() as session:
        rooms.approve(session, staff_id=centre.staff_id, site_id=centre.site_id,
                      booking_id=booking_id, now=at(13, 10))  # fmt: skip
    booking_jobs.run_due(any_database, now=at(13, 11))
    assert [r.booking_id for r in reminders_sent(any_database)] == [booking_id]


def test_a_booking_made_after_its_reminder_moment_gets_no_reminder(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    # Booked at 09:30 for 10:00: the resident has just chosen the time at the kiosk.
    book_room(any_database, centre, clock, centre.dance_id, at(10))
    booking_jobs.run_due(any_database, now=at(9, 31))
    assert reminders_sent(any_database) == []


def test_a_staff_series_occurrence_gets_no_reminder(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        series.create_series(
            session,
            staff_id=centre.staff_id,
            site_id=centre.site_id,
            space_id=centre.dance_id,
            title="太极拳",
            weekday=2,
            start_time=time(9, 30),
            end_time=time(10, 30),
            starts_on=date(2026, 11, 25),
            ends_on=date(2026, 11, 25),
            now=clock.now(),
        )
    booking_jobs.run_due(any_database, now=at(9, 0, days=1))
    assert reminders_sent(any_database) == []


def test_a_seat_reminder_follows_the_rooms_own_check_in_window(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        session.add(SpaceRules(space_id=centre.study_id, check_in_early_minutes=60))
    book_seat(any_database, centre, clock, at(14), at(16))
    assert booking_jobs.run_due(any_database, now=at(12, 44)) == 0
    assert booking_jobs.run_due(any_database, now=at(12, 45)) == 1
    [reminder] = reminders_sent(any_database)
    assert reminder.detail.startswith(at(13).isoformat())
