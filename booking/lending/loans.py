"""A loan's start and end, and finding one: the steps every way of lending shares (locker door
session, counter), kept below both so neither imports the other."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from booking.lending.errors import (
    LoanNotFound,
)
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.tools import Item


def get_loan(
    session: Session, *, site_id: int, loan_id: int, resident_id: int | None = None
) -> Loan:
    """A loan of the site (and of the resident, when given: nobody returns another's tool)."""
    loan = session.get(Loan, loan_id, with_for_update=True)
    if loan is None or loan.site_id != site_id:
        raise LoanNotFound("no such loan", loan_id=loan_id)
    if resident_id is not None and loan.resident_id != resident_id:
        raise LoanNotFound("no such loan", loan_id=loan_id)
    return loan


def start_loan(
    session: Session,
    *,
    item: Item,
    resident_id: int,
    channel: LoanChannel,
    now: datetime,
    loan_days: int,
    staff_id: int | None = None,
) -> Loan:
    loan = Loan(
        site_id=item.site_id,
        item_id=item.id,
        tool_type_id=item.tool_type_id,
        resident_id=resident_id,
        channel=channel,
        status=LoanStatus.ACTIVE,
        started_at=now,
        due_at=now + timedelta(days=loan_days),
        lent_by_staff_id=staff_id,
    )
    item.lend()
    session.add(loan)
    session.flush()
    return loan


def end_loan(loan: Loan, item: Item, now: datetime) -> None:
    loan.end(now)
    item.loan_ended()
