"""Who holds a seat or room when: the one place a booking takes or gives back a slot.

Double booking is impossible by construction. Every writer first locks the resource row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises
writers), then checks for an overlapping active booking, then inserts, all in one
transaction. On PostgreSQL the exclusion constraints on ``bookings`` refuse an overlap even
from code that skipped this module; their violation (SQLSTATE 23P01) becomes
:class:`SlotTaken`. Locking first matters: without it, 50 concurrent inserters deadlocked
hundreds of times inside the exclusion check (40P01); with it, none did (docs/benchmarks.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.core.errors import NotFound, SlotTaken
from booking.people.models.residents import Resident
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space

EXCLUSION_VIOLATION = "23P01"


def lock_seat(session: Session, seat_id: int) -> Seat:
    seat = session.get(Seat, seat_id, with_for_update=True)
    if seat is None:
        raise NotFound("no such seat")
    return seat


def lock_space(session: Session, space_id: int) -> Space:
    space = session.get(Space, space_id, with_for_update=True)
    if space is None:
        raise NotFound("no such room")
    return space


def lock_resident(session: Session, resident_id: int) -> None:
    """Serialise one resident's own bookings (daily cap, one seat at a time).

    Always taken before the resource lock, so two lockers never wait on each other in a cycle.
    """
    session.get(Resident, resident_id, with_for_update=True)


def overlapping(
    session: Session,
    *,
    space_id: int,
    seat_id: int | None,
    starts_at: datetime,
    ends_at: datetime,
) -> Booking | None:
    """An active booking of the same seat (or the same whole room) overlapping the period."""
    resource = (
        Booking.seat_id == seat_id
        if seat_id is not None
        else (Booking.space_id == space_id) & Booking.seat_id.is_(None)
    )
    return session.scalar(
        select(Booking)
        .where(
            resource,
            Booking.status.in_(ACTIVE_STATUSES),
            # Half-open periods: one ending at 11:00 and one starting at 11:00 do not overlap.
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
        )
        .limit(1)
    )


def is_free(
    session: Session, *, space_id: int, seat_id: int | None, starts_at: datetime, ends_at: datetime
) -> bool:
    return (
        overlapping(
            session, space_id=space_id, seat_id=seat_id, starts_at=starts_at, ends_at=ends_at
        )
        is None
    )


def take(session: Session, booking: Booking) -> Booking:
    """Insert an active ``booking`` if its slot is free, else raise :class:`SlotTaken`.

    The caller has locked the resource (:func:`lock_seat` / :func:`lock_space`) in this
    transaction. A refusal by the database aborts the transaction: the caller's block must
    end (it rolls back, so nothing is half-written).
    """
    if not is_free(
        session,
        space_id=booking.space_id,
        seat_id=booking.seat_id,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
    ):
        raise SlotTaken("that time is already taken")
    session.add(booking)
    try:
        session.flush()
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) == EXCLUSION_VIOLATION:
            raise SlotTaken("that time is already taken") from error
        raise
    return booking
