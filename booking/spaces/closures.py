"""Closures (holidays, maintenance): no new bookings, and affected residents are told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core.errors import InvalidInput, NotFound
from booking.spaces import occupancy, releases
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.closures import Closure
from booking.spaces.models.spaces import Space
from booking.spaces.models.waitlist import WaitlistEntry, WaitlistStatus
from booking.spaces.rooms import staff_member


def declare_closure(
    session: Session,
    *,
    staff_id: int,
    site_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    now: datetime,
    space_id: int | None = None,
) -> Closure:
    """Close a space (or, without ``space_id``, the whole site) for a period.

    Bookings inside the period are cancelled; one that began earlier is cut short at the
    closure's start. Each affected resident gets one notification, however many bookings
    they lost. Queue entries for the period are dropped: it will never be offered.
    """
    staff_member(session, staff_id, site_id)
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise InvalidInput("give a reason residents can read (1–300 characters)", field="reason")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("times must be timezone-aware", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput("the end must come after the start", field="ends_at")
    if ends_at <= now:
        raise InvalidInput("that period is over", field="ends_at")
    if space_id is not None:
        space = session.get(Space, space_id)
        if space is None or space.site_id != site_id:
            raise NotFound("no such space")
        occupancy.lock_space(session, space_id)
    closure = Closure(
        site_id=site_id,
        space_id=space_id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by_staff_id=staff_id,
        created_at=now,
    )
    session.add(closure)
    session.flush()
    affected = session.scalars(
        select(Booking)
        .where(
            Booking.site_id == site_id,
            Booking.space_id == space_id if space_id is not None else Booking.site_id == site_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
        )
        .order_by(Booking.id)
    ).all()
    told: set[int] = set()
    for booking in affected:
        if booking.starts_at < starts_at:
            booking.ends_at = starts_at
        else:
            releases.release(
                session, booking, status=BookingStatus.CANCELLED, now=now, reason=reason
            )
        if booking.resident_id is not None and booking.resident_id not in told:
            told.add(booking.resident_id)
            notifications.notify(
                session,
                resident_id=booking.resident_id,
                site_id=site_id,
                kind=NotificationKind.CLOSURE,
                now=now,
                booking_id=booking.id,
                closure_id=closure.id,
                detail=reason,
            )
    queued = select(WaitlistEntry).where(WaitlistEntry.site_id == site_id)
    if space_id is not None:
        queued = queued.where(WaitlistEntry.space_id == space_id)
    for entry in session.scalars(
        queued.where(
            WaitlistEntry.status == WaitlistStatus.WAITING,
            WaitlistEntry.starts_at < ends_at,
            WaitlistEntry.ends_at > starts_at,
        )
    ):
        entry.settle(WaitlistStatus.CANCELLED)
    session.flush()
    return closure


def closures_of(session: Session, *, site_id: int, now: datetime) -> list[Closure]:
    """Closures not yet over, soonest first."""
    return list(
        session.scalars(
            select(Closure)
            .where(Closure.site_id == site_id, Closure.ends_at > now)
            .order_by(Closure.starts_at)
        )
    )
