"""No-show strikes and suspensions: three strikes within 30 days stop seat booking for 7 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core import audit, row_locks, suspensions
from booking.core.errors import InvalidInput, NotFound, ResidentSuspended, SuspensionNotActive
from booking.people import staff_sites
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces.models.bookings import Booking
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension


def active_suspension(
    session: Session, *, resident_id: int, site_id: int, now: datetime
) -> BookingSuspension | None:
    return suspensions.in_force(
        session, BookingSuspension, site_id=site_id, resident_id=resident_id, now=now
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
    # The resident's strikes are counted below: no-shows struck at once are counted one
    # after the other, so each third one suspends once. The caller locked the booking, and
    # locks the resident before any seat (booking.core.row_locks' order).
    row_locks.lock_resident(session, booking.resident_id)
    existing = session.scalar(select(NoShowStrike).where(NoShowStrike.booking_id == booking.id))
    if existing is not None:
        return None
    strike = NoShowStrike(
        site_id=booking.site_id,
        resident_id=booking.resident_id,
        booking_id=booking.id,
        given_at=now,
    )
    notice = Notice(kind=NotificationKind.NO_SHOW, booking_id=booking.id)
    return _count(session, strike, notice, now, strikes_to_suspend, window, suspension)


@dataclass(frozen=True)
class Notice:
    """What the resident is told about the no-show itself."""

    kind: NotificationKind
    booking_id: int | None = None
    detail: str = ""


def give_reservation_strike(
    session: Session,
    *,
    site_id: int,
    resident_id: int,
    tool_reservation_id: int,
    notice: Notice,
    now: datetime,
    strikes_to_suspend: int,
    window: timedelta,
    suspension: timedelta,
) -> NoShowStrike | None:
    """A reserved tool nobody collected, counted as a seat no-show is (once per reservation):
    the same strikes, towards the same suspension."""
    row_locks.lock_resident(session, resident_id)
    existing = session.scalar(
        select(NoShowStrike).where(NoShowStrike.tool_reservation_id == tool_reservation_id)
    )
    if existing is not None:
        return None
    strike = NoShowStrike(
        site_id=site_id,
        resident_id=resident_id,
        tool_reservation_id=tool_reservation_id,
        given_at=now,
    )
    return _count(session, strike, notice, now, strikes_to_suspend, window, suspension)


def _count(
    session: Session, strike: NoShowStrike, notice: Notice, now: datetime,
    strikes_to_suspend: int, window: timedelta, suspension: timedelta,
) -> NoShowStrike:  # fmt: skip
    """Add the strike, tell the resident, and suspend seat booking on one too many."""
    session.add(strike)
    session.flush()
    notifications.notify(
        session,
        resident_id=strike.resident_id,
        site_id=strike.site_id,
        kind=notice.kind,
        now=now,
        booking_id=notice.booking_id,
        detail=notice.detail,
    )
    counting = session.scalars(
        select(NoShowStrike).where(
            NoShowStrike.resident_id == strike.resident_id,
            NoShowStrike.site_id == strike.site_id,
            NoShowStrike.suspension_id.is_(None),
            NoShowStrike.given_at > now - window,
        )
    ).all()
    if len(counting) >= strikes_to_suspend:
        row = BookingSuspension(
            site_id=strike.site_id,
            resident_id=strike.resident_id,
            starts_at=now,
            ends_at=now + suspension,
        )
        session.add(row)
        session.flush()
        for counted in counting:
            counted.suspension_id = row.id
        notifications.notify(
            session,
            resident_id=strike.resident_id,
            site_id=strike.site_id,
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


def lift_suspension(
    session: Session, *, staff_id: int, site_id: int, suspension_id: int, reason: str,
    now: datetime,
) -> BookingSuspension:  # fmt: skip
    """Staff at ``site_id`` end a suspension of theirs early (a misunderstanding, a kiosk
    fault); the resident may book seats again at once. The strikes that caused it stay
    counted towards it, so they cannot suspend the resident a second time."""
    reason = reason.strip()
    if not reason or len(reason) > 300:
        raise InvalidInput("give the reason for lifting it (1–300 characters)", field="reason")
    # Locked, so two desks lifting it at once lift it once, with one reason.
    suspension = session.get(BookingSuspension, suspension_id, with_for_update=True)
    # Another centre's suspension is not found here, even by a worker of both centres: the
    # console lifts those of the centre it works at (booking.people.staff_sites).
    if suspension is None or suspension.site_id != site_id:
        raise NotFound("no such suspension")
    # booking.spaces.rooms.staff_member's rule, inline: rooms imports booking_rules, which imports us.
    staff = session.get(StaffAccount, staff_id)
    if (
        staff is None
        or not staff.is_active
        or not staff_sites.may_work_at(session, staff=staff, site_id=site_id)
    ):
        raise NotFound("no such staff member at this centre")
    if suspension.lifted_at is not None or not suspension.starts_at <= now < suspension.ends_at:
        raise SuspensionNotActive("this suspension is not in force")
    suspension.lift(staff_id=staff_id, reason=reason, now=now)
    session.flush()
    # Audited here, whichever console page lifted it, so the log reads as one action.
    audit.record_staff(
        session, staff, action="booking.suspension_lifted", now=now,
        subject=f"resident:{suspension.resident_id}",
        detail={"suspension_id": suspension.id, "reason": suspension.lift_reason},
    )  # fmt: skip
    return suspension


def current_suspensions(
    session: Session, *, site_id: int, now: datetime
) -> list[tuple[BookingSuspension, Resident]]:
    """Suspensions in force at the site, with their residents, ending soonest first."""
    return [
        (suspension, resident)
        for suspension, resident in session.execute(
            select(BookingSuspension, Resident)
            .join(Resident, Resident.id == BookingSuspension.resident_id)
            .where(
                BookingSuspension.site_id == site_id,
                BookingSuspension.starts_at <= now,
                BookingSuspension.ends_at > now,
                BookingSuspension.lifted_at.is_(None),
            )
            .order_by(BookingSuspension.ends_at, BookingSuspension.id)
        )
    ]


def recent_strikes(
    session: Session, *, site_id: int, since: datetime
) -> list[tuple[NoShowStrike, Resident, Booking]]:
    """No-show strikes given at the site since ``since``, newest first, with who and what."""
    return [
        (strike, resident, booking)
        for strike, resident, booking in session.execute(
            select(NoShowStrike, Resident, Booking)
            .join(Resident, Resident.id == NoShowStrike.resident_id)
            .join(Booking, Booking.id == NoShowStrike.booking_id)
            .where(NoShowStrike.site_id == site_id, NoShowStrike.given_at >= since)
            .order_by(NoShowStrike.given_at.desc(), NoShowStrike.id.desc())
        )
    ]
