"""Whether a resident may borrow now: their open loans and live pickups against the limit,
an overdue loan outstanding, a lending suspension in force; and which loans to remind them of."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import row_locks, suspensions
from booking.lending import door_lookup
from booking.lending.errors import (
    ItemUnavailable,
    LendingSuspended,
    LoanLimitReached,
    OverdueLoanOutstanding,
)
from booking.lending.models.door_sessions import DoorSession
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan, LoanStatus
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.policy import Policy
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident


def open_loans(session: Session, *, site_id: int, resident_id: int) -> list[Loan]:
    """The resident's loans not yet returned, soonest due first."""
    return list(
        session.scalars(
            select(Loan)
            .where(
                Loan.site_id == site_id,
                Loan.resident_id == resident_id,
                Loan.status.in_(OPEN_LOAN_STATUSES),
            )
            .order_by(Loan.due_at, Loan.id)
        )
    )


def live_reservations(session: Session, *, site_id: int, resident_id: int) -> list[DoorSession]:
    """The resident's pickups not yet over (each counts towards the limit like a loan)."""
    return door_lookup.live_pickups(session, site_id=site_id, resident_id=resident_id)


def loans_to_remind(session: Session, *, site_id: int, resident_id: int) -> list[Loan]:
    """Overdue loans the resident has not yet been reminded of at the kiosk."""
    return [
        loan
        for loan in open_loans(session, site_id=site_id, resident_id=resident_id)
        if loan.status is LoanStatus.OVERDUE and loan.reminded_at is None
    ]


def mark_reminded(session: Session, loans: Sequence[Loan], now: datetime) -> None:
    for loan in loans:
        if loan.reminded_at is None:
            loan.reminded_at = now


def active_suspension(
    session: Session, *, site_id: int, resident_id: int, now: datetime
) -> LendingSuspension | None:
    return suspensions.in_force(
        session, LendingSuspension, site_id=site_id, resident_id=resident_id, now=now
    )


def ensure_can_borrow(
    session: Session, *, site_id: int, resident_id: int, now: datetime, policy: Policy
) -> None:
    """Raise unless the resident may take one more item: a member, not suspended, nothing
    overdue, and under the site's limit (open loans and live pickups together).

    The resident stays locked until the caller's transaction ends, so the resident's
    simultaneous pickups and counter loans are counted one after the other, each seeing
    the ones before it (the caller locks the item only after this)."""
    member = session.scalar(
        select(ResidentMembership.id)
        .join(Resident, Resident.id == ResidentMembership.resident_id)
        .where(
            ResidentMembership.site_id == site_id,
            ResidentMembership.resident_id == resident_id,
            Resident.deactivated_at.is_(None),  # a deactivated account borrows nothing
        )
    )
    if member is None:
        raise ItemUnavailable("not a member of this centre", resident_id=resident_id)
    row_locks.lock_resident(session, resident_id)
    suspension = active_suspension(session, site_id=site_id, resident_id=resident_id, now=now)
    if suspension is not None:
        raise LendingSuspended("borrowing is suspended", until=suspension.ends_at)
    loans = open_loans(session, site_id=site_id, resident_id=resident_id)
    if any(loan.status is LoanStatus.OVERDUE for loan in loans):
        raise OverdueLoanOutstanding("an overdue item must be returned first")
    held = len(loans) + len(live_reservations(session, site_id=site_id, resident_id=resident_id))
    if held >= policy.max_items_on_loan:
        raise LoanLimitReached(
            "too many items on loan", limit=policy.max_items_on_loan, current=held
        )
