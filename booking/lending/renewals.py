"""Renewing a loan: the resident (at the kiosk, on the phone) or staff keep a tool longer,
up to the policy's number of renewals and only while nobody waits for the tool type. The
new due date is the old one plus the tool type's loan period, and the history records both."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.lending import holds
from booking.lending.errors import OthersWaiting, RenewalLimitReached, WrongLendingState
from booking.lending.history import record, resident_actor, staff_actor
from booking.lending.loans import get_loan
from booking.lending.models.events import LendingAction
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.reservations import (
    ReservationKind,
    ReservationStatus,
    ToolReservation,
)
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.lending.policy import policy_for
from booking.lending.reservations import items_left
from booking.people.models.staff import StaffAccount


def renew_loan(
    session: Session, *, site_id: int, loan_id: int, now: datetime,
    resident_id: int | None = None, staff: StaffAccount | None = None, actor: str | None = None,
) -> Loan:  # fmt: skip
    """Move an active loan's due date on by the tool type's loan period (``resident_id``: only
    their own loan; ``staff``: any of the site's, named in the history and the audit log;
    ``actor``: another caller the history names, such as an API token).

    Refused for a loan overdue or ended (:class:`WrongLendingState`: an overdue tool comes
    back first), past the policy's renewals (:class:`RenewalLimitReached`), and while another
    resident waits for the tool type or has reserved it for a window the longer loan would
    leave without an item (:class:`OthersWaiting`)."""
    loan = get_loan(session, site_id=site_id, loan_id=loan_id, resident_id=resident_id)
    if loan.status is not LoanStatus.ACTIVE:
        raise WrongLendingState("only an active loan is renewed", state=loan.status.value)
    policy = policy_for(session, site_id)
    if loan.renewals >= policy.max_renewals:
        raise RenewalLimitReached(
            "the loan was renewed as often as allowed", limit=policy.max_renewals
        )
    if holds.someone_waiting(
        session, tool_type_id=loan.tool_type_id, now=now, except_resident=loan.resident_id
    ):
        raise OthersWaiting("another resident waits for this tool", tool_type_id=loan.tool_type_id)
    tool_type = session.get_one(ToolType, loan.tool_type_id)
    before = loan.due_at
    after = before + timedelta(days=tool_type.loan_days)
    if _breaks_a_window(session, loan, tool_type, after, now):
        raise OthersWaiting(
            "another resident reserved this tool for a time the renewal would cover",
            tool_type_id=loan.tool_type_id,
        )
    loan.renew(after)
    if actor is None:
        actor = staff_actor(staff) if staff is not None else resident_actor(loan.resident_id)
    record(
        session, item=session.get_one(Item, loan.item_id), action=LendingAction.RENEWED,
        actor=actor, now=now, loan=loan,
        detail={"due_before": before.isoformat(), "due_after": loan.due_at.isoformat(),
                "renewals": loan.renewals},
    )  # fmt: skip
    if staff is not None:
        audit.record_staff(
            session, staff, action="lending.renewed", now=now, subject=f"loan:{loan.id}",
            detail={"resident_id": loan.resident_id, "due_at": loan.due_at.isoformat()},
        )  # fmt: skip
    return loan


def _breaks_a_window(
    session: Session, loan: Loan, tool_type: ToolType, due_after: datetime, now: datetime
) -> bool:
    """Whether keeping the tool until ``due_after`` leaves a window reserved ahead (starting
    between the two due dates) without an item: each such window counts its items with this
    loan back by then, and one fewer is left once the loan runs over its start."""
    starts = session.scalars(
        select(ToolReservation.window_starts_at).where(
            ToolReservation.tool_type_id == tool_type.id,
            ToolReservation.kind == ReservationKind.WINDOW,
            ToolReservation.status == ReservationStatus.WAITING,
            ToolReservation.resident_id != loan.resident_id,
            ToolReservation.window_starts_at >= loan.due_at,
            ToolReservation.window_starts_at < due_after,
        )
    )
    return any(
        items_left(session, tool_type=tool_type, starts_at=start, now=now) < 1
        for start in starts
        if start is not None
    )
