"""Giving a slot back: the one way a booking stops holding its seat or room.

Whatever ends a booking (cancelled, left early, no-show, rejected, closure) ends up here, so
the freed time always goes to the waitlist.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from booking.core.errors import CancelTooLate, NotFound, WrongBookingState
from booking.spaces import waitlist
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.waitlist import WaitlistStatus


def release(
    session: Session,
    booking: Booking,
    *,
    status: BookingStatus,
    now: datetime,
    reason: str = "",
    used_until: datetime | None = None,
) -> None:
    """End ``booking`` with ``status``; ``used_until`` shortens it to the time actually used."""
    if status in ACTIVE_STATUSES:
        raise ValueError(f"{status} is not a finished status")
    if booking.status is BookingStatus.HELD:
        # An offer ended by someone else (a closure, staff): the queue entry ends with it.
        waitlist.close_entry(session, booking, WaitlistStatus.CANCELLED)
    booking.finish(status, now, reason)
    if used_until is not None and booking.starts_at < used_until < booking.ends_at:
        booking.ends_at = used_until
    session.flush()
    if booking.ends_at > now:
        waitlist.offer_freed(session, space_id=booking.space_id, seat_id=booking.seat_id, now=now)


def own_booking(session: Session, resident_id: int, booking_id: int) -> Booking:
    """The resident's booking, locked; someone else's is as good as missing.

    Locked, so a change the resident makes and one a job makes at the same moment (checking
    in just as the no-show job releases the seat) happen one after the other, and the
    second sees the first's result instead of overwriting it."""
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    if booking is None or booking.resident_id != resident_id:
        raise NotFound("no such booking")
    return booking


def cancel(session: Session, *, resident_id: int, booking_id: int, now: datetime) -> Booking:
    """A resident cancels a seat or room booking before it starts (or declines an offer)."""
    booking = own_booking(session, resident_id, booking_id)
    if booking.status is BookingStatus.HELD:
        waitlist.decline(session, resident_id=resident_id, booking_id=booking_id, now=now)
        return booking
    if booking.status not in (BookingStatus.CONFIRMED, BookingStatus.PENDING):
        raise WrongBookingState("only a booking not yet begun can be cancelled")
    if now >= booking.starts_at:
        # After the start a seat is either checked in (leave instead) or a no-show.
        raise CancelTooLate("the booking has begun", starts_at=booking.starts_at)
    release(session, booking, status=BookingStatus.CANCELLED, now=now, reason="cancelled")
    return booking
