"""Staff decide what a lending mismatch was, with a note, and the records follow, audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core import audit
from booking.core.errors import InvalidInput
from booking.lending import history as lending_history
from booking.lending import operations as lending
from booking.lending import reconciliation
from booking.lending.errors import (
    MismatchAlreadyResolved,
    MismatchNotFound,
    ResolutionDoesNotFit,
)
from booking.lending.models.events import LendingAction
from booking.lending.models.loans import Loan, ReturnCondition
from booking.lending.models.mismatches import LendingMismatch, MismatchResolution
from booking.people.models.staff import StaffAccount


def resolve(
    session: Session,
    *,
    staff: StaffAccount,
    mismatch_id: int,
    resolution: MismatchResolution | str,
    note: str,
    now: datetime,
    condition: ReturnCondition | str | None = None,
) -> LendingMismatch:
    """Staff decide what a mismatch was, and the records follow:

    - present during loan, ``returned``: the loan ends as returned at the counter, with the
      condition staff saw (a damaged tool goes to maintenance);
    - present during loan, ``still_out``: the compartment holds something else; the loan stays
      open, and the mismatch is not raised again while the locker shows the same;
    - absent, ``found``: the tool is back in its compartment and can be lent again;
    - absent, ``lost``: the tool is gone for good.

    The note is required; the audit log keeps who decided what, and why.
    """
    note = (note or "").strip()
    if not note:
        raise InvalidInput("say what was found and done", field="note")
    if len(note) > reconciliation.MAX_NOTE:
        raise InvalidInput("the note is too long", field="note", max=reconciliation.MAX_NOTE)
    try:
        chosen = MismatchResolution(resolution)
    except ValueError:
        raise ResolutionDoesNotFit("no such resolution", field="resolution") from None
    m = session.get(LendingMismatch, mismatch_id, with_for_update=True)
    if m is None or m.site_id != staff.working_site_id:
        raise MismatchNotFound("no such mismatch", mismatch_id=mismatch_id)
    if not m.is_open:
        raise MismatchAlreadyResolved("the mismatch is already resolved", mismatch_id=m.id)
    if chosen not in m.resolutions:
        raise ResolutionDoesNotFit("that resolution does not fit this mismatch", field="resolution")
    actor = lending_history.staff_actor(staff)
    loan_ended = False
    if chosen is MismatchResolution.RETURNED:
        # The counter return locks the loan, then the item (booking.core.row_locks' order).
        loan = session.get(Loan, m.loan_id) if m.loan_id is not None else None
        if loan is not None and loan.is_open:
            lending.return_at_counter(session, staff=staff, loan_id=loan.id,
                                      condition=condition or ReturnCondition.FINE, now=now,
                                      note=note)  # fmt: skip
            loan_ended = True
    item = reconciliation.locked_item(session, m.item_id)
    if chosen is MismatchResolution.FOUND and item.found_again():
        lending_history.record(session, item=item, action=LendingAction.ITEM_FOUND, actor=actor, now=now,
                       detail={"mismatch_id": m.id, "note": note})  # fmt: skip
    elif chosen is MismatchResolution.LOST and item.given_up():
        lending_history.record(session, item=item, action=LendingAction.MARKED_LOST, actor=actor, now=now,
                       detail={"mismatch_id": m.id, "note": note})  # fmt: skip
    m.resolve(chosen, staff_id=staff.id, note=note, now=now)
    if m.alert_id is not None:
        alert = session.get(StaffAlert, m.alert_id)
        if alert is not None and alert.status is not AlertStatus.RESOLVED:
            alerts.resolve(session, staff, alert.id, now=now, note=note)
    audit.record_staff(
        session,
        staff,
        action="lending.mismatch_resolved",
        now=now,
        subject=reconciliation.mismatch_subject(m.id),
        detail={
            "kind": m.kind.value,
            "resolution": chosen.value,
            "item_id": item.id,
            "asset_tag": item.asset_tag,
            "loan_id": m.loan_id,
            "loan_ended": loan_ended,
            "note": note,
        },
    )
    return m
