from __future__ import annotations

import pytest
from booking_centre import Centre, at

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import (
    BookingTooLong,
    DailyLimitReached,
    DomainError,
    NotFound,
    OffGrid,
    OutsideBookingWindow,
    OutsideOpeningHours,
    ResidentBusy,
    SlotTaken,
)
from booking.spaces import seats
from booking.spaces.models.bookings import Booking, BookingStatus


def book(db: Database, centre: Centre, clock: FrozenClock, start, end, seat=0, who=0) -> int:  # type: ignore[no-untyped-def]
    with db.write() as session:
        return seats.book_seat(
            session,
            resident_id=centre.residents[who],
            seat_id=centre.seats[seat],
            starts_at=start,
            ends_at=end,
            now=clock.now(),
        ).id


def count_bookings(db: Database) -> int:
    with db.read() as session:
        return len(session.query(Booking).all())


def test_a_free_seat_is_booked_for_a_slot_on_the_grid(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book(any_database, centre, clock, at(10), at(11, 30))
    with any_database.read() as session:
        booking = session.get_one(Booking, booking_id)
        assert booking.status is BookingStatus.CONFIRMED
        assert (booking.starts_at, booking.ends_at) == (at(10), at(11, 30))


def test_the_same_seat_cannot_be_booked_twice_for_overlapping_time(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book(any_database, centre, clock, at(10), at(12))
    with pytest.raises(SlotTaken) as taken:
        book(any_database, centre, clock, at(11), at(13), who=1)
    assert taken.value.code == "slot_taken"
    assert count_bookings(any_database) == 1


def test_adjacent_bookings_of_one_seat_are_allowed(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book(any_database, centre, clock, at(10), at(11))
    book(any_database, centre, clock, at(11), at(12), who=1)
    assert count_bookings(any_database) == 2


@pytest.mark.parametrize(
    ("start", "end", "error"),
    [
        (at(10, 15), at(11), OffGrid),
        (at(10), at(10, 45), OffGrid),
        (at(7, 30), at(8, 30), OutsideOpeningHours),
        (at(20, 30), at(21, 30), OutsideOpeningHours),
        (at(10), at(14, 30), BookingTooLong),
        (at(10, days=2), at(11, days=2), OutsideBookingWindow),
        (at(8), at(9), OutsideBookingWindow),
        (at(11), at(10), DomainError),
    ],
    ids=[
        "start off grid",
        "end off grid",
        "before opening",
        "after closing",
        "longer than 4 hours",
        "day after tomorrow",
        "already over",
        "end before start",
    ],
)
def test_a_seat_booking_breaking_a_rule_is_refused_and_changes_nothing(
    database: Database,
    clock: FrozenClock,
    start,  # type: ignore[no-untyped-def]
    end,
    error: type[DomainError],
) -> None:
    from booking_centre import build_centre

    centre = build_centre(database, clock)
    with pytest.raises(error):
        book(database, centre, clock, start, end)
    assert count_bookings(database) == 0


def test_tomorrow_is_bookable(any_database: Database, centre: Centre, clock: FrozenClock) -> None:
    book(any_database, centre, clock, at(17, days=1), at(21, days=1))
    assert count_bookings(any_database) == 1


def test_the_slot_under_way_can_still_be_booked(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    clock.set(at(9, 40))
    book(any_database, centre, clock, at(9, 30), at(10, 30))
    assert count_bookings(any_database) == 1


def test_a_resident_may_book_at_most_eight_hours_of_seats_a_day(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book(any_database, centre, clock, at(10), at(14), seat=0)
    book(any_database, centre, clock, at(14), at(18), seat=1)
    with pytest.raises(DailyLimitReached) as limit:
        book(any_database, centre, clock, at(18), at(18, 30), seat=2)
    assert limit.value.details["minutes_left"] == 0


def test_a_resident_cannot_hold_two_seats_at_once(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book(any_database, centre, clock, at(10), at(12), seat=0)
    with pytest.raises(ResidentBusy):
        book(any_database, centre, clock, at(11), at(12), seat=1)


def test_a_resident_of_another_centre_cannot_book_here(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    with pytest.raises(NotFound), any_database.write() as session:
        seats.book_seat(
            session,
            resident_id=999_999,
            seat_id=centre.seats[0],
            starts_at=at(10),
            ends_at=at(11),
            now=clock.now(),
        )


def test_free_seats_lists_the_seats_without_an_overlapping_booking(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book(any_database, centre, clock, at(10), at(11), seat=1)
    with any_database.read() as session:
        free = seats.free_seats(
            session, space_id=centre.study_id, starts_at=at(10, 30), ends_at=at(11, 30)
        )
        assert [s.id for s in free] == [centre.seats[0], centre.seats[2], centre.seats[3]]
