"""The database itself refuses overlapping active bookings, even from code that skips the check."""

from __future__ import annotations

import pytest
from booking_centre import Centre, at
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import OutsideOpeningHours, SlotTaken
from booking.spaces import occupancy, seats
from booking.spaces.models.bookings import Booking, BookingStatus


def seat_booking(
    centre: Centre,
    who: int,
    start_hour: int,
    end_hour: int,
    status: BookingStatus = BookingStatus.CONFIRMED,
) -> Booking:
    return Booking(
        site_id=centre.site_id,
        space_id=centre.study_id,
        seat_id=centre.seats[0],
        resident_id=centre.residents[who],
        status=status,
        starts_at=at(start_hour),
        ends_at=at(end_hour),
        created_at=at(9),
    )


def test_postgresql_refuses_an_overlapping_booking_that_skipped_the_check_as_slot_taken(
    postgres_database: Database, pg_centre: Centre, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite has no exclusion constraint: there the check and the insert share BEGIN IMMEDIATE.
    with postgres_database.write() as session:
        occupancy.take(session, seat_booking(pg_centre, 0, 10, 12))
    monkeypatch.setattr(occupancy, "is_free", lambda *args, **kwargs: True)
    with pytest.raises(SlotTaken), postgres_database.write() as session:
        occupancy.take(session, seat_booking(pg_centre, 1, 11, 13))
    with postgres_database.read() as session:
        assert session.scalar(select(func.count()).select_from(Booking)) == 1


def test_postgresql_allows_an_overlapping_booking_once_the_first_is_no_longer_active(
    postgres_database: Database, pg_centre: Centre
) -> None:
    # The exclusion constraint covers active bookings only: a cancelled one frees the seat.
    with postgres_database.write() as session:
        session.add(seat_booking(pg_centre, 0, 10, 12, BookingStatus.CANCELLED))
        session.add(seat_booking(pg_centre, 1, 10, 12))
    with postgres_database.read() as session:
        statuses = session.scalars(select(Booking.status).order_by(Booking.id)).all()
    assert statuses == [BookingStatus.CANCELLED, BookingStatus.CONFIRMED]


def test_sit_now_in_the_last_minutes_before_closing_is_refused(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    with pytest.raises(OutsideOpeningHours), any_database.write() as session:
        seats.sit_now(
            session, resident_id=centre.residents[0], space_id=centre.study_id, now=at(20, 50)
        )
