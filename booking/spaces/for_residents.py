"""Staff acting for a resident (at the counter, on the phone): booking a seat or a room and
cancelling, through the very services the kiosk calls, so every rule (quotas, suspensions,
approval) holds and refuses with the same error. What this adds is the record: the booking
names the staff member (``Booking.staff_id``) and the audit log has staff and resident."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import NotFound
from booking.people.models.staff import StaffAccount
from booking.spaces import releases, rooms, seats
from booking.spaces.models.bookings import Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space


def _audit(session: Session, staff: StaffAccount, action: str, booking: Booking,
           now: datetime) -> None:  # fmt: skip
    audit.record_staff(
        session, staff, action=action, now=now, subject=f"booking:{booking.id}",
        detail={"resident_id": booking.resident_id, "staff_id": staff.id,
                "status": booking.status.value},
    )  # fmt: skip


def book_seat(
    session: Session, *, staff: StaffAccount, resident_id: int, seat_id: int,
    starts_at: datetime, ends_at: datetime, now: datetime,
) -> Booking:  # fmt: skip
    """Book a study seat of the staff member's centre for the resident."""
    seat = session.get(Seat, seat_id)
    if seat is None or session.get_one(Space, seat.space_id).site_id != staff.working_site_id:
        raise NotFound("no such seat", field="seat")
    booking = seats.book_seat(
        session, resident_id=resident_id, seat_id=seat.id, starts_at=starts_at,
        ends_at=ends_at, now=now,
    )  # fmt: skip
    booking.made_by_staff(staff.id)
    _audit(session, staff, "booking.booked_for_resident", booking, now)
    return booking


def book_room(
    session: Session, *, staff: StaffAccount, resident_id: int, space_id: int,
    starts_at: datetime, ends_at: datetime, headcount: int, purpose: str, now: datetime,
) -> Booking:  # fmt: skip
    """Book an activity room of the staff member's centre for the resident (pending where
    the room needs approval, as at the kiosk)."""
    space = session.get(Space, space_id)
    if space is None or space.site_id != staff.working_site_id:
        raise NotFound("no such activity room", field="room")
    booking = rooms.book_room(
        session, resident_id=resident_id, space_id=space.id, starts_at=starts_at,
        ends_at=ends_at, headcount=headcount, purpose=purpose, now=now,
    )  # fmt: skip
    booking.made_by_staff(staff.id)
    _audit(session, staff, "booking.booked_for_resident", booking, now)
    return booking


def cancel(
    session: Session, *, staff: StaffAccount, resident_id: int, booking_id: int, now: datetime
) -> Booking:
    """Cancel the resident's booking before it begins (or decline an offer), as they could."""
    found = session.get(Booking, booking_id)
    if found is None or found.site_id != staff.working_site_id:
        raise NotFound("no such booking")
    booking = releases.cancel(session, resident_id=resident_id, booking_id=booking_id, now=now)
    _audit(session, staff, "booking.cancelled_for_resident", booking, now)
    return booking
