"""What a borrower is told by SMS about a loan: due tomorrow, overdue, long overdue (when
staff are alerted too), and a suspension with its end. Queued in the job's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from booking.core import sends
from booking.core.models.sites import Site
from booking.lending.models.loans import Loan
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tool_types import ToolType
from booking.messages import kinds, outbox
from booking.messages.notices import local_text
from booking.people.models.residents import Resident

DUE_TOMORROW = "lending.due_tomorrow"


def _tool_and_date(session: Session, loan: Loan) -> list[str]:
    tool_type = session.get_one(ToolType, loan.tool_type_id)
    resident = session.get_one(Resident, loan.resident_id)
    zh = resident.preferred_language.startswith("zh")
    site = session.get_one(Site, loan.site_id)
    return [tool_type.name_zh if zh else tool_type.name_en, local_text(loan.due_at, site)]


def _queue(session: Session, loan: Loan, kind: str, params: list[str], now: datetime) -> None:
    outbox.enqueue(
        session, site_id=loan.site_id, resident_id=loan.resident_id, kind=kind, params=params,
        now=now,
    )  # fmt: skip


def due_tomorrow(session: Session, loan: Loan, now: datetime, *, message: bool = True) -> bool:
    """The day-before reminder, once per loan (a claim: booking.core.sends); with
    ``message`` False the claim alone is taken."""
    if not sends.claim(session, site_id=loan.site_id, kind=DUE_TOMORROW, key=f"loan:{loan.id}",
                       now=now):  # fmt: skip
        return False
    if not message:
        return False
    _queue(session, loan, kinds.LOAN_DUE_TOMORROW, _tool_and_date(session, loan), now)
    return True


def overdue(session: Session, loan: Loan, now: datetime) -> None:
    _queue(session, loan, kinds.LOAN_OVERDUE, _tool_and_date(session, loan), now)


def escalated(session: Session, loan: Loan, now: datetime) -> None:
    _queue(session, loan, kinds.LOAN_ESCALATED, _tool_and_date(session, loan)[:1], now)


def suspended(session: Session, suspension: LendingSuspension, now: datetime) -> None:
    site = session.get_one(Site, suspension.site_id)
    outbox.enqueue(
        session, site_id=suspension.site_id, resident_id=suspension.resident_id,
        kind=kinds.LENDING_SUSPENDED, params=[local_text(suspension.ends_at, site)], now=now,
    )  # fmt: skip
