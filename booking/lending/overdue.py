"""Loans past their due date: marked overdue (and, after too many, a lending suspension),
escalated to staff once, and a suspension lifted early by staff with a reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity
from booking.core import audit, row_locks
from booking.core.errors import InvalidInput
from booking.lending import catalogue as lending_catalogue
from booking.lending import loan_messages
from booking.lending.errors import SuspensionNotFound, WrongLendingState
from booking.lending.history import record
from booking.lending.models.events import LendingAction
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.lending.policy import Policy
from booking.people.models.staff import StaffAccount


def mark_overdue(session: Session, loan: Loan, now: datetime, policy: Policy) -> None:
    """Mark an active loan past its due date overdue, and suspend the resident when this is
    one overdue loan too many within the policy's window."""
    if loan.status is not LoanStatus.ACTIVE or loan.due_at > now:
        return
    # The resident's overdue loans are counted below: loans going overdue at once (one job
    # run each) are counted one after the other, so each pair suspends once.
    row_locks.lock_resident(session, loan.resident_id)
    loan.go_overdue(now)
    item = session.get_one(Item, loan.item_id)
    item.loan_overdue()
    record(session, item=item, action=LendingAction.MARKED_OVERDUE, actor="system:overdue",
           now=now, loan=loan)  # fmt: skip
    session.flush()
    loan_messages.overdue(session, loan, now)
    counted = list(
        session.scalars(
            select(Loan).where(
                Loan.site_id == loan.site_id,
                Loan.resident_id == loan.resident_id,
                Loan.overdue_since.is_not(None),
                Loan.overdue_since > now - policy.overdue_window,
                Loan.suspension_id.is_(None),
            )
        )
    )
    if len(counted) < policy.overdue_strikes:
        return
    suspension = LendingSuspension(
        site_id=loan.site_id,
        resident_id=loan.resident_id,
        starts_at=now,
        ends_at=now + policy.suspension,
        reason="overdue_loans",
    )
    session.add(suspension)
    session.flush()
    for counted_loan in counted:
        counted_loan.suspension_id = suspension.id
    loan_messages.suspended(session, suspension, now)
    audit.record(
        session,
        action="lending.suspended",
        actor="system:overdue",
        now=now,
        site_id=loan.site_id,
        subject=f"resident:{loan.resident_id}",
        detail={"loans": sorted(c.id for c in counted), "until": suspension.ends_at.isoformat()},
    )


def escalate(session: Session, loan: Loan, now: datetime, policy: Policy) -> bool:
    """Alert staff about a loan still overdue ``escalate_after`` past its due date (once)."""
    if loan.status is not LoanStatus.OVERDUE or loan.escalated_at is not None:
        return False
    if now - loan.due_at < policy.escalate_after:
        return False
    loan.escalated_at = now
    item = session.get_one(Item, loan.item_id)
    tool_type = session.get_one(ToolType, item.tool_type_id)
    days = (now - loan.due_at).days
    alerts.raise_alert(
        session,
        site_id=loan.site_id,
        kind="loan.overdue",
        severity=AlertSeverity.WARNING,
        summary=f"{tool_type.name_en} {item.asset_tag} is {days} days overdue",
        params={**lending_catalogue.tool_params(tool_type, item), "days": days},
        now=now,
        subject=f"loan:{loan.id}",
        resident_id=loan.resident_id,
        dedupe_key=f"lending:overdue:loan:{loan.id}",
    )
    record(session, item=item, action=LendingAction.OVERDUE_ESCALATED, actor="system:overdue",
           now=now, loan=loan, detail={"days_overdue": days})  # fmt: skip
    loan_messages.escalated(session, loan, now)
    return True


def lift_suspension(
    session: Session, *, staff: StaffAccount, suspension_id: int, now: datetime, reason: str
) -> LendingSuspension:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the suspension is lifted")
    suspension = session.get(LendingSuspension, suspension_id, with_for_update=True)
    if suspension is None or suspension.site_id != staff.working_site_id:
        raise SuspensionNotFound("no such suspension", suspension_id=suspension_id)
    if suspension.lifted_at is not None or suspension.ends_at <= now:
        raise WrongLendingState("the suspension is not active")
    suspension.lift(staff_id=staff.id, reason=reason, now=now)
    audit.record_staff(
        session, staff, action="lending.suspension_lifted", now=now,
        subject=f"resident:{suspension.resident_id}", detail={"reason": reason[:300]},
    )  # fmt: skip
    return suspension
