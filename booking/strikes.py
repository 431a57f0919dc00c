"""No-show strikes and suspensions: three strikes within 30 days stop seat booking for 7 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking import notifications
from booking.errors import ResidentSuspended
from booking.models import Booking, BookingSuspension, NoShowStrike, NotificationKind


def active_suspension(
    session: Session, *, resident_id: int, site_id: int, now: datetime
) -> BookingSuspension | None:
    return session.scalar(
        select(BookingSuspension)
        .where(
            BookingSuspension.resident_id == resident_id,
            BookingSuspension.site_id == site_id,
            BookingSuspension.starts_at <= now,
            BookingSuspension.ends_at > now,
        )
        .order_by(BookingSuspension.ends_at.desc())
        .limit(1)
    )


def ensure_not_suspended(
    session: Session, *, resident_id: int, site_id: int, now: datetime
) -> None:
    suspension = active_suspension(session, resident_id=resident_id, site_id=site_id, now=now)
    if suspension is not None:
        raise ResidentSuspended("seat booking is suspended", until=suspension.ends_at)


def give_strike(
    session: Session,
    booking: Booking,
    *,
    now: datetime,
    strikes_to_suspend: int,
    window: timedelta,
    suspension: timedelta,
) -> NoShowStrike | None:
    """Record a no-show for ``booking`` (once) and suspend the resident when it is one too many.

    Strikes that already caused a suspension do not count again, so a fourth no-show in the
    same 30 days starts a new count rather than a second suspension.
    """
    if booking.resident_id is None:
        return None
    existing = session.scalar(select(NoShowStrike).where(NoShowStrike.booking_id == booking.id))
    if existing is not None:
        return None
    strike = NoShowStrike(
        site_id=booking.site_id,
        resident_id=booking.resident_id,
        booking_id=booking.id,
        given_at=now,
    )
    session.add(strike)
    session.flush()
    notifications.notify(
        session,
        resident_id=booking.resident_id,
        site_id=booking.site_id,
        kind=NotificationKind.NO_SHOW,
        now=now,
        booking_id=booking.id,
    )
    counting = session.scalars(
        select(NoShowStrike).where(
            NoShowStrike.resident_id == booking.resident_id,
            NoShowStrike.site_id == booking.site_id,
            NoShowStrike.suspension_id.is_(None),
            NoShowStrike.given_at > now - window,
        )
    ).all()
    if len(counting) >= strikes_to_suspend:
        row = BookingSuspension(
            site_id=booking.site_id,
            resident_id=booking.resident_id,
            starts_at=now,
            ends_at=now + suspension,
        )
        session.add(row)
        session.flush()
        for counted in counting:
            counted.suspension_id = row.id
        notifications.notify(
            session,
            resident_id=booking.resident_id,
            site_id=booking.site_id,
            kind=NotificationKind.SUSPENDED,
            now=now,
            detail=row.ends_at.isoformat(),
        )
    return strike


def strikes_of(session: Session, *, resident_id: int, site_id: int) -> list[NoShowStrike]:
    return list(
        session.scalars(
            select(NoShowStrike)
            .where(NoShowStrike.resident_id == resident_id, NoShowStrike.site_id == site_id)
            .order_by(NoShowStrike.given_at)
        )
    )
