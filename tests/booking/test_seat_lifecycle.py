from __future__ import annotations

from datetime import datetime

import pytest
from booking_centre import Centre, at, book_seat, keep_alive
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import (
    CancelTooLate,
    CheckInClosed,
    CheckInTooEarly,
    LeaveExpired,
    ResidentSuspended,
    SlotTaken,
    WrongBookingState,
)
from booking.spaces import jobs as booking_jobs
from booking.spaces import seats, strikes
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.strikes import NoShowStrike


def book(
    db: Database,
    c: Centre,
    clock: FrozenClock,
    start: datetime,
    end: datetime,
    who: int = 0,
    seat: int = 0,
) -> int:
    return book_seat(db, c, start, end, now=clock.now(), who=who, seat=seat).id


def status(db: Database, booking_id: int) -> BookingStatus:
    with db.read() as session:
        return session.get_one(Booking, booking_id).status


def act(db: Database, action, c: Centre, booking_id: int, now: datetime, who: int = 0) -> Booking:  # type: ignore[no-untyped-def]
    with db.write() as session:
        return action(session, resident_id=c.residents[who], booking_id=booking_id, now=now)  # type: ignore[no-any-return]


def test_check_in_is_open_from_fifteen_minutes_before_to_fifteen_after_the_start(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    with pytest.raises(CheckInTooEarly):
        act(any_database, seats.check_in, centre, booking_id, at(9, 44))
    act(any_database, seats.check_in, centre, booking_id, at(9, 45))
    assert status(any_database, booking_id) is BookingStatus.CHECKED_IN


def test_check_in_after_fifteen_minutes_past_the_start_is_refused(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    with pytest.raises(CheckInClosed):
        act(any_database, seats.check_in, centre, booking_id, at(10, 15))
    assert status(any_database, booking_id) is BookingStatus.CONFIRMED


def test_someone_else_cannot_check_in_to_my_booking(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    with pytest.raises(Exception, match="no such booking"):
        act(any_database, seats.check_in, centre, booking_id, at(10), who=1)


def test_no_show_after_15_minutes_releases_seat_and_adds_strike(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    keep_alive(any_database, centre.site_id, at(9, 30), at(10, 15))
    assert booking_jobs.run_due(any_database, now=at(10, 14)) == 0
    assert booking_jobs.run_due(any_database, now=at(10, 15)) == 1
    assert status(any_database, booking_id) is BookingStatus.NO_SHOW
    with any_database.read() as session:
        assert [
            s.booking_id
            for s in strikes.strikes_of(
                session, resident_id=centre.residents[0], site_id=centre.site_id
            )
        ] == [booking_id]
    book(any_database, centre, clock, at(10, 30), at(11), who=1)  # the seat is free again


def test_a_seat_booked_once_its_slot_is_under_way_has_its_check_in_minutes_from_then(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    # Booked at 10:29 for the 10:00 slot (the screens offer the slot under way): timed from
    # the start, its check-in closed at 10:15, before it was made, and the next run of the
    # job made it a no-show with a strike. It gets the same 15 minutes, from 10:29.
    clock.set(at(10, 29))
    booking_id = book(any_database, centre, clock, at(10), at(11))
    keep_alive(any_database, centre.site_id, at(9, 30), at(10, 45))
    assert booking_jobs.run_due(any_database, now=at(10, 30)) == 0
    assert booking_jobs.run_due(any_database, now=at(10, 43)) == 0
    assert status(any_database, booking_id) is BookingStatus.CONFIRMED
    act(any_database, seats.check_in, centre, booking_id, at(10, 43))
    assert status(any_database, booking_id) is BookingStatus.CHECKED_IN


def test_a_seat_booked_under_way_and_never_checked_in_is_a_no_show_after_its_minutes(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    clock.set(at(10, 29))
    booking_id = book(any_database, centre, clock, at(10), at(11))
    keep_alive(any_database, centre.site_id, at(9, 30), at(10, 45))
    with pytest.raises(CheckInClosed):
        act(any_database, seats.check_in, centre, booking_id, at(10, 44))
    assert booking_jobs.run_due(any_database, now=at(10, 44)) == 1
    assert status(any_database, booking_id) is BookingStatus.NO_SHOW


def test_the_no_show_job_run_twice_gives_one_strike(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    keep_alive(any_database, centre.site_id, at(9, 30), at(10, 15))
    for _ in range(2):
        with any_database.write() as session:
            booking_jobs.release_no_show(session, booking_id=booking_id, now=at(10, 20))
    with any_database.read() as session:
        assert len(session.query(NoShowStrike).all()) == 1


def test_no_strike_when_the_kiosk_was_down_during_the_check_in_window(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    keep_alive(any_database, centre.site_id, at(9, 30), at(9, 50))
    # The server comes back at 10:40: the first heartbeat records the outage, then catch-up.
    keep_alive(any_database, centre.site_id, at(10, 40), at(10, 40))
    booking_jobs.run_due(any_database, now=at(10, 40))
    assert status(any_database, booking_id) is BookingStatus.NO_SHOW
    with any_database.read() as session:
        assert session.query(NoShowStrike).all() == []


def test_no_strike_without_any_heartbeat_to_show_the_kiosk_was_up(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book(any_database, centre, clock, at(10), at(11))
    booking_jobs.run_due(any_database, now=at(10, 20))
    with any_database.read() as session:
        assert session.query(NoShowStrike).all() == []


def test_three_strikes_within_30_days_suspend_seat_booking_for_7_days(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    for day in range(3):
        clock.set(at(9, days=day))
        book(any_database, centre, clock, at(10, days=day), at(11, days=day))
        keep_alive(any_database, centre.site_id, at(9, 30, days=day), at(10, 15, days=day))
        booking_jobs.run_due(any_database, now=at(10, 15, days=day))
    clock.set(at(11, days=2))
    with pytest.raises(ResidentSuspended):
        book(any_database, centre, clock, at(12, days=2), at(13, days=2))
    clock.set(at(10, 16, days=9))
    book(any_database, centre, clock, at(12, days=9), at(13, days=9))


def test_strikes_more_than_30_days_apart_do_not_suspend(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    for day in (0, 16, 32):
        clock.set(at(9, days=day))
        book(any_database, centre, clock, at(10, days=day), at(11, days=day))
        keep_alive(any_database, centre.site_id, at(9, 30, days=day), at(10, 15, days=day))
        booking_jobs.run_due(any_database, now=at(10, 15, days=day))
    with any_database.read() as session:
        assert len(session.scalars(select(NoShowStrike)).all()) == 3
    clock.set(at(11, days=32))
    # Three strikes, but never three within 30 days: the resident may still book.
    booking_id = book(any_database, centre, clock, at(12, days=32), at(13, days=32))
    assert status(any_database, booking_id) is BookingStatus.CONFIRMED


def test_a_temporary_leave_of_up_to_30_minutes_keeps_the_seat(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(12))
    act(any_database, seats.check_in, centre, booking_id, at(10))
    act(any_database, seats.start_leave, centre, booking_id, at(10, 30))
    keep_alive(any_database, centre.site_id, at(10), at(10, 59))
    booking_jobs.run_due(any_database, now=at(10, 59))
    act(any_database, seats.come_back, centre, booking_id, at(10, 59))
    assert status(any_database, booking_id) is BookingStatus.CHECKED_IN


def test_a_temporary_leave_longer_than_30_minutes_releases_the_seat(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(12))
    act(any_database, seats.check_in, centre, booking_id, at(10))
    act(any_database, seats.start_leave, centre, booking_id, at(10, 30))
    keep_alive(any_database, centre.site_id, at(10), at(11, 0))
    with pytest.raises(LeaveExpired):
        act(any_database, seats.come_back, centre, booking_id, at(11, 0))
    booking_jobs.run_due(any_database, now=at(11, 0))
    with any_database.read() as session:
        booking = session.get_one(Booking, booking_id)
        assert (booking.status, booking.ends_at) == (BookingStatus.RELEASED, at(11))
    book(any_database, centre, clock, at(11), at(12), who=1)


def test_a_temporary_leave_during_a_server_outage_does_not_release_the_seat(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(12))
    act(any_database, seats.check_in, centre, booking_id, at(10))
    act(any_database, seats.start_leave, centre, booking_id, at(10, 30))
    keep_alive(any_database, centre.site_id, at(10), at(10, 31))
    keep_alive(any_database, centre.site_id, at(11, 30), at(11, 30))
    booking_jobs.run_due(any_database, now=at(11, 30))
    assert status(any_database, booking_id) is BookingStatus.CHECKED_IN


def test_leaving_early_releases_the_rest_of_the_booking(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(12))
    act(any_database, seats.check_in, centre, booking_id, at(10))
    act(any_database, seats.leave, centre, booking_id, at(10, 40))
    with any_database.read() as session:
        booking = session.get_one(Booking, booking_id)
        assert (booking.status, booking.ends_at) == (BookingStatus.COMPLETED, at(10, 40))
    clock.set(at(10, 40))
    book(any_database, centre, clock, at(11), at(12), who=1)


def test_a_booking_is_cancelled_before_it_starts_and_frees_the_seat(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    act(any_database, seats.cancel, centre, booking_id, at(9, 50))
    assert status(any_database, booking_id) is BookingStatus.CANCELLED
    book(any_database, centre, clock, at(10), at(11), who=1)


def test_a_booking_cannot_be_cancelled_after_it_started(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    with pytest.raises(CancelTooLate):
        act(any_database, seats.cancel, centre, booking_id, at(10, 5))


def test_checking_in_twice_is_refused(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11))
    act(any_database, seats.check_in, centre, booking_id, at(10))
    with pytest.raises(WrongBookingState):
        act(any_database, seats.check_in, centre, booking_id, at(10, 1))


def test_sit_now_takes_the_seat_free_longest_already_checked_in(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book(any_database, centre, clock, at(10), at(11), seat=0, who=1)
    with any_database.write() as session:
        walk_in = seats.sit_now(
            session, resident_id=centre.residents[0], space_id=centre.study_id, now=at(9, 40)
        )
        assert walk_in.seat_id == centre.seats[1]
        assert walk_in.status is BookingStatus.CHECKED_IN
        assert (walk_in.starts_at, walk_in.ends_at) == (at(9, 40), at(13, 30))


def test_sit_now_on_a_taken_seat_is_refused(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book(any_database, centre, clock, at(9, 30), at(11), seat=0, who=1)
    with pytest.raises(SlotTaken), any_database.write() as session:
        seats.sit_now(
            session,
            resident_id=centre.residents[0],
            space_id=centre.study_id,
            seat_id=centre.seats[0],
            now=at(9, 40),
        )


def test_a_resident_sees_their_own_bookings_from_today_on(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    mine = book(any_database, centre, clock, at(10), at(11))
    book(any_database, centre, clock, at(10), at(11), seat=1, who=1)
    with any_database.read() as session:
        listed = seats.bookings_of(
            session, resident_id=centre.residents[0], site_id=centre.site_id, now=clock.now()
        )
        assert [b.id for b in listed] == [mine]
