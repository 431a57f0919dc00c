"""A booking slip's QR code: giving a booking its token, and checking in by scanning it.

The code carries the token (booking.core.slip_codes), never the booking's id: an id can be
guessed by counting, a token only read off the slip. A token names a booking of one site;
at another site's kiosk it names nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import slip_codes
from booking.core.errors import Conflict, NotFound
from booking.spaces import seats
from booking.spaces.models.bookings import Booking


class SlipUnknown(NotFound):
    """No booking of this site carries the scanned token (a mistyped, old or other site's
    code): nothing is changed."""

    code = "slip_unknown"


class NoCheckInNeeded(Conflict):
    """A room booking's slip: rooms are not checked in, the desk lets the group in."""

    code = "no_check_in_needed"


def slip_code(session: Session, booking: Booking) -> str:
    """The text of the booking's QR code, giving the booking its token on first use."""
    token = booking.give_slip_token(slip_codes.new_token())
    session.flush()
    return slip_codes.text_of(slip_codes.SlipKind.BOOKING, token)


def booking_of(session: Session, *, site_id: int, token: str) -> Booking:
    """The site's booking whose slip carries ``token``; :class:`SlipUnknown` otherwise."""
    booking = session.scalar(
        select(Booking).where(Booking.slip_token == token, Booking.site_id == site_id)
    )
    if booking is None or booking.resident_id is None:
        raise SlipUnknown("no booking of this site has that slip")
    return booking


def check_in_by_slip(session: Session, *, site_id: int, booking_id: int, now: datetime) -> Booking:
    """Check in the booking a scanned slip named (its token found it when the scan arrived,
    devices.kiosk_reader.scans), by the same rule as at the kiosk
    (:func:`booking.spaces.seats.check_in`: its window, its state)."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.site_id != site_id or booking.resident_id is None:
        raise SlipUnknown("no booking of this site has that slip")
    if booking.seat_id is None:
        raise NoCheckInNeeded("a room booking is not checked in")
    return seats.check_in(session, resident_id=booking.resident_id, booking_id=booking.id, now=now)
