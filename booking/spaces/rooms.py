"""Activity rooms: a resident books for a group; some rooms wait for staff approval."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core import audit
from booking.core.errors import InvalidInput, NotFound, WrongBookingState
from booking.core.models.sites import Site
from booking.people import staff_sites
from booking.people.models.staff import StaffAccount
from booking.spaces import occupancy, releases
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.spaces import Space, SpaceKind

cancel = releases.cancel


def book_room(
    session: Session,
    *,
    resident_id: int,
    space_id: int,
    starts_at: datetime,
    ends_at: datetime,
    headcount: int,
    now: datetime,
    purpose: str = "",
) -> Booking:
    """Book a whole activity room for a group of ``headcount`` (at most its capacity).

    A room that needs approval gets a PENDING booking, which already holds the slot.
    """
    space = session.get(Space, space_id)
    if space is None or space.kind is not SpaceKind.ACTIVITY:
        raise NotFound("no such activity room")
    site = session.get_one(Site, space.site_id)
    booking_rules.member(session, resident_id, site.id)
    purpose = purpose.strip()
    if len(purpose) > 200:
        raise InvalidInput("purpose is at most 200 characters", field="purpose")
    booking_rules.check_headcount(space, headcount)
    rules = booking_rules.rules_for(session, space)
    booking_rules.check_period(
        session, site=site, space=space, rules=rules, starts_at=starts_at, ends_at=ends_at, now=now
    )
    occupancy.lock_space(session, space.id)
    return occupancy.take(
        session,
        Booking(
            site_id=site.id,
            space_id=space.id,
            resident_id=resident_id,
            status=BookingStatus.PENDING if space.needs_approval else BookingStatus.CONFIRMED,
            starts_at=starts_at,
            ends_at=ends_at,
            headcount=headcount,
            purpose=purpose,
            created_at=now,
        ),
    )


def staff_member(session: Session, staff_id: int, site_id: int) -> StaffAccount:
    """An active staff account of the site; any other is treated as unknown."""
    staff = session.get(StaffAccount, staff_id)
    if (
        staff is None
        or not staff.is_active
        or not staff_sites.work_there(session, staff=staff, site_id=site_id)
    ):
        raise NotFound("no such staff member at this centre")
    return staff


def _pending(
    session: Session, staff_id: int, site_id: int, booking_id: int
) -> tuple[Booking, StaffAccount]:
    # Locked: two staff deciding at once (or a decision and the resident's cancelling)
    # decide once; the second reads the first's decision instead of overwriting it.
    booking = session.get(Booking, booking_id, with_for_update=True, populate_existing=True)
    # Another centre's booking is not found here, even by a worker of both centres: the
    # console decides for the centre it works at (booking.people.staff_sites).
    if booking is None or booking.site_id != site_id:
        raise NotFound("no such booking")
    staff = staff_member(session, staff_id, site_id)
    if booking.status is not BookingStatus.PENDING:
        raise WrongBookingState("this booking is not waiting for approval")
    return booking, staff


def approve(
    session: Session, *, staff_id: int, site_id: int, booking_id: int, now: datetime
) -> Booking:
    """Approve a pending booking of ``site_id``, the centre the staff member works at now."""
    booking, staff = _pending(session, staff_id, site_id, booking_id)
    booking.approve(staff_id=staff_id, now=now)
    session.flush()
    audit.record_staff(
        session, staff, action="booking.approve", now=now, subject=f"booking:{booking.id}",
        detail={"resident_id": booking.resident_id, "space_id": booking.space_id},
    )  # fmt: skip
    if booking.resident_id is not None:
        notifications.notify(
            session,
            resident_id=booking.resident_id,
            site_id=booking.site_id,
            kind=NotificationKind.BOOKING_APPROVED,
            now=now,
            booking_id=booking.id,
        )
    return booking


def reject(
    session: Session, *, staff_id: int, site_id: int, booking_id: int, reason: str,
    now: datetime,
) -> Booking:  # fmt: skip
    """Refuse a pending booking of ``site_id`` (as :func:`approve`); the resident reads
    ``reason``, and the slot frees."""
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise InvalidInput("give a reason the resident can read (1–300 characters)", field="reason")
    booking, staff = _pending(session, staff_id, site_id, booking_id)
    booking.record_decision(staff_id=staff_id, now=now)
    releases.release(session, booking, status=BookingStatus.REJECTED, now=now, reason=reason)
    audit.record_staff(
        session, staff, action="booking.reject", now=now, subject=f"booking:{booking.id}",
        detail={"resident_id": booking.resident_id, "reason": booking.reason},
    )  # fmt: skip
    if booking.resident_id is not None:
        notifications.notify(
            session,
            resident_id=booking.resident_id,
            site_id=booking.site_id,
            kind=NotificationKind.BOOKING_REJECTED,
            now=now,
            booking_id=booking.id,
            detail=reason,
        )
    return booking


def pending_approvals(session: Session, *, site_id: int) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.site_id == site_id, Booking.status == BookingStatus.PENDING)
            .order_by(Booking.starts_at, Booking.id)
        )
    )
