"""Deactivating a resident's account (moved away, deceased, other) and reactivating it.

A deactivated resident cannot sign in (booking.people.residents answers as to a wrong PIN),
is not identified by card (booking.health.pairing) and can book or borrow nothing. Their
seat and room bookings and their waits are ended through the spaces services, so the freed
time goes to the waiting list. Loans and tool reservations are NOT closed: a tool out is
still out, so staff get them listed (:func:`open_lending`) and settle them by hand.
History stays; the personal data goes after the retention period (booking.people.erasure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from booking.core import audit
from booking.health import pairing as health_pairing
from booking.lending import eligibility as lending_eligibility
from booking.lending.models.door_sessions import DoorSession
from booking.lending.models.loans import Loan
from booking.people import cards, one_time_codes
from booking.people.models.resident_sessions import ResidentSession
from booking.people.models.residents import DeactivationReason, Resident
from booking.people.models.staff import StaffAccount
from booking.spaces import releases, waitlist
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.waitlist import WaitlistEntry, WaitlistStatus

# The reasons staff may choose; "merged" is given only by booking.people.merging.
STAFF_REASONS = (
    DeactivationReason.MOVED_AWAY,
    DeactivationReason.DECEASED,
    DeactivationReason.OTHER,
)


@dataclass(frozen=True)
class Deactivated:
    """What deactivating ended: bookings and waits (by id), and the sessions signed out."""

    bookings_ended: list[int]
    waits_ended: int
    sessions_ended: int


def deactivate(
    session: Session,
    *,
    staff: StaffAccount,
    resident: Resident,
    reason: DeactivationReason,
    now: datetime,
    merged_into: int | None = None,
) -> Deactivated:
    """Deactivate ``resident``; audited with ids and counts only."""
    resident.deactivate(reason, now, merged_into=merged_into)
    sessions_ended = end_sessions(session, resident_id=resident.id, now=now)
    health_pairing.close_open_pairings(session, resident_id=resident.id, now=now)
    cards.cancel_binds(session, resident_id=resident.id, now=now)
    one_time_codes.void_unused(session, resident_id=resident.id, now=now)
    ended = [b.id for b in _end_bookings(session, resident.id, now)]
    waits = _end_waits(session, resident.id)
    audit.record_staff(
        session, staff, action="resident.deactivated", now=now,
        subject=f"resident:{resident.id}",
        detail={"reason": reason.value, "bookings_ended": ended, "waits_ended": waits,
                **({"merged_into": merged_into} if merged_into is not None else {})},
    )  # fmt: skip
    return Deactivated(ended, waits, sessions_ended)


def reactivate(session: Session, *, staff: StaffAccount, resident: Resident, now: datetime) -> None:
    """Undo a deactivation (not after erasure); the ended bookings stay ended."""
    was = resident.deactivation_reason
    resident.reactivate()
    audit.record_staff(
        session, staff, action="resident.reactivated", now=now,
        subject=f"resident:{resident.id}", detail={"was": was.value if was else None},
    )  # fmt: skip


def end_sessions(session: Session, *, resident_id: int, now: datetime) -> int:
    """Sign the resident out of every kiosk now."""
    result = session.execute(
        update(ResidentSession)
        .where(ResidentSession.resident_id == resident_id, ResidentSession.ended_at.is_(None))
        .values(ended_at=now, end_reason="deactivated")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _end_bookings(session: Session, resident_id: int, now: datetime) -> list[Booking]:
    ids = session.scalars(
        select(Booking.id)
        .where(Booking.resident_id == resident_id, Booking.status.in_(ACTIVE_STATUSES))
        .order_by(Booking.starts_at, Booking.id)
    ).all()
    ended = []
    for booking_id in ids:
        booking = releases.own_booking(session, resident_id, booking_id)
        if booking.status is BookingStatus.HELD:
            # Declining hands the offer to the next in line at once.
            waitlist.decline(session, resident_id=resident_id, booking_id=booking_id, now=now)
        elif now < booking.starts_at:
            releases.cancel(session, resident_id=resident_id, booking_id=booking_id, now=now)
        else:
            # Begun: the time used so far stays in the record, the rest goes back.
            seated = booking.status in (BookingStatus.CHECKED_IN, BookingStatus.ON_LEAVE)
            releases.release(
                session, booking,
                status=BookingStatus.COMPLETED if seated else BookingStatus.CANCELLED,
                now=now, reason="account deactivated", used_until=now,
            )  # fmt: skip
        ended.append(booking)
    return ended


def _end_waits(session: Session, resident_id: int) -> int:
    entries = session.scalars(
        select(WaitlistEntry.id).where(
            WaitlistEntry.resident_id == resident_id,
            WaitlistEntry.status == WaitlistStatus.WAITING,
        )
    ).all()
    for entry_id in entries:
        waitlist.leave_queue(session, resident_id=resident_id, entry_id=entry_id)
    return len(entries)


@dataclass(frozen=True)
class OpenLending:
    """What a deactivated resident still has of the centre's tools, for staff to settle."""

    loans: list[Loan]
    reservations: list[DoorSession]

    def __bool__(self) -> bool:
        return bool(self.loans or self.reservations)


def open_lending(session: Session, *, site_id: int, resident_id: int) -> OpenLending:
    return OpenLending(
        loans=lending_eligibility.open_loans(session, site_id=site_id, resident_id=resident_id),
        reservations=lending_eligibility.live_reservations(
            session, site_id=site_id, resident_id=resident_id
        ),
    )
