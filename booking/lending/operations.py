"""Tool lending: the rules, and every change of an item, loan, pickup or return. (What a
resident may borrow is ``eligibility``; the catalogue is ``catalogue``; overdue loans and
suspensions are ``overdue``.)

Each change here writes its :class:`~booking.lending.models.events.LendingEvent` in the same transaction as
the change itself, so the history and the current state cannot disagree. What happens at a
locker is decided by the locker's own events, through its door session
(:mod:`booking.lending.door_session`): a locker loan exists only once the locker reported the item gone.

Services take a session and plain values and raise :mod:`booking.lending.errors`; who owns
the transaction (request, job, MQTT worker) opens it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity
from booking.core import audit, row_locks
from booking.lending import catalogue as lending_catalogue
from booking.lending import door_lookup, door_session, holds
from booking.lending import eligibility as lending_eligibility
from booking.lending.errors import (
    InvalidCondition,
    ItemUnavailable,
    NoItemAvailable,
    WrongLendingState,
)
from booking.lending.history import (
    record,
    resident_actor,
    staff_actor,
)
from booking.lending.loans import end_loan, get_loan, start_loan
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.events import LendingAction
from booking.lending.models.loans import (
    OPEN_LOAN_STATUSES,
    Loan,
    LoanChannel,
    LoanStatus,
    ReturnCondition,
)
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.lending.policy import policy_for
from booking.people.models.staff import StaffAccount

MAX_NOTE = 500

# --- locker pickup (the door session: booking.lending.door_session) ------------------------------------


def reserve(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int, now: datetime,
    among: Collection[int] | None = None, staff: StaffAccount | None = None,
    audit_action: str = "lending.pickup_for_resident",
) -> DoorSession:  # fmt: skip
    """Hold one available locker item of the type for the resident, for the policy's hold.

    The lowest-numbered free item is taken (of the item ids ``among``, when given: those
    whose locker can be used now); the item's row is locked so two kiosks cannot hold the
    same one (and the partial unique index would refuse it anyway). ``staff``: the staff
    member doing it for the resident (at the counter, on the phone), named in the history,
    the audit log (as ``audit_action``: a pickup opened now, or a hold the resident opens
    later at the kiosk) and the loan the locker confirms; the resident's rules are the same.
    """
    policy = policy_for(session, site_id)
    tool_type = lending_catalogue.get_tool_type(session, site_id=site_id, tool_type_id=tool_type_id)
    lending_catalogue.ensure_not_retired(tool_type)
    lending_eligibility.ensure_can_borrow(
        session, site_id=site_id, resident_id=resident_id, now=now, policy=policy
    )
    _ensure_not_promised(session, tool_type, resident_id, now, among)
    item = session.scalar(
        select(Item)
        .where(
            Item.site_id == site_id,
            Item.tool_type_id == tool_type_id,
            Item.status == ItemStatus.AVAILABLE,
            Item.locker_device_id.is_not(None),
            true() if among is None else Item.id.in_(list(among)),
        )
        .order_by(Item.locker_device_id, Item.compartment)
        .limit(1)
        # NO KEY UPDATE (booking.core.row_locks): an item only named by a row being inserted
        # elsewhere (a history event) is not skipped as taken.
        .with_for_update(skip_locked=True, key_share=True)
    )
    if item is None:
        raise NoItemAvailable("no item of this tool is free in a locker", tool_type_id=tool_type_id)
    # The query asked for an item in a locker, so it has its place.
    assert item.locker_device_id is not None and item.compartment is not None
    reservation = DoorSession.for_pickup(
        site_id=site_id,
        item_id=item.id,
        resident_id=resident_id,
        device_id=item.locker_device_id,
        compartment=item.compartment,
        now=now,
        hold=policy.hold,
        staff_id=staff.id if staff is not None else None,
    )
    try:
        # In a savepoint, so that a refusal below leaves the caller's transaction usable.
        with session.begin_nested():
            item.reserve()
            session.add(reservation)
    except IntegrityError as error:
        # An available item with a live door session (its tool put back while the pickup's
        # door is still open) is not free yet; the index says so, the resident hears it.
        if not row_locks.violates(error, "ux_door_sessions_live_item", "door_sessions.item_id"):
            raise
        raise NoItemAvailable(
            "no item of this tool is free in a locker", tool_type_id=tool_type_id
        ) from error
    record(
        session,
        item=item,
        action=LendingAction.RESERVED,
        actor=resident_actor(resident_id) if staff is None else staff_actor(staff),
        now=now,
        door_session=reservation,
    )
    if staff is not None:
        audit.record_staff(
            session, staff, action=audit_action, now=now,
            subject=f"door_session:{reservation.id}",
            detail={"resident_id": resident_id, "staff_id": staff.id, "item_id": item.id,
                    "tool_type_id": tool_type_id},
        )  # fmt: skip
    return reservation


def _ensure_not_promised(
    session: Session, tool_type: ToolType, resident_id: int, now: datetime,
    among: Collection[int] | None,
) -> None:  # fmt: skip
    """Free items that others' reservations and queue places need are not taken here."""
    needed = holds.promised(session, tool_type_id=tool_type.id, resident_id=resident_id, now=now,
                            loan_days=tool_type.loan_days)  # fmt: skip
    if needed == 0:
        return
    free = holds.free_items_query(tool_type.id)
    if among is not None:
        free = free.where(Item.id.in_(list(among)))
    if (session.scalar(select(func.count()).select_from(free.subquery())) or 0) <= needed:
        raise NoItemAvailable("the free items are reserved", tool_type_id=tool_type.id)


def cancel_pickup(
    session: Session, *, staff: StaffAccount, door_session_id: int, now: datetime
) -> DoorSession:
    """Staff call off a pickup they started for a resident before its compartment opened
    (still held, as a hold for the resident to open at the kiosk is, or waiting for the
    compartment to close): the item is free again. One at the
    door is the locker's to finish (:class:`WrongLendingState`)."""
    door = door_lookup.get(session, door_session_id=door_session_id, site_id=staff.working_site_id)
    if not door.is_pickup or door.requested_by_staff_id is None:
        raise WrongLendingState("only a pickup staff started is called off here")
    if door.state not in (DoorSessionState.RESERVED, DoorSessionState.WAITING):
        raise WrongLendingState("the compartment is already open", state=door.state.value)
    door_session.release(session, door, ReleaseReason.CANCELLED, now, actor=staff_actor(staff))
    audit.record_staff(
        session, staff, action="lending.pickup_cancelled_for_resident", now=now,
        subject=f"door_session:{door.id}",
        detail={"resident_id": door.resident_id, "staff_id": staff.id, "item_id": door.item_id},
    )  # fmt: skip
    return door


def report_condition(
    session: Session,
    *,
    site_id: int,
    resident_id: int,
    loan_id: int,
    condition: ReturnCondition | str,
    now: datetime,
    note: str = "",
) -> Loan:
    """The resident's answer to "how is it?" after a locker return. Damaged or incomplete
    sends the item to maintenance and alerts staff."""
    loan = get_loan(session, site_id=site_id, loan_id=loan_id, resident_id=resident_id)
    if loan.status is not LoanStatus.RETURNED:
        raise WrongLendingState("the item has not been returned yet", state=loan.status)
    if loan.return_condition is not None:
        raise WrongLendingState("the condition was already reported")
    _apply_condition(
        session, loan, _condition(condition), note, now, actor=resident_actor(resident_id)
    )
    return loan


def _condition(value: ReturnCondition | str) -> ReturnCondition:
    try:
        return ReturnCondition(value)
    except ValueError:
        raise InvalidCondition("condition must be fine, damaged or parts_missing") from None


def _apply_condition(
    session: Session, loan: Loan, condition: ReturnCondition, note: str, now: datetime, *,
    actor: str,
) -> None:  # fmt: skip
    note = (note or "").strip()[:MAX_NOTE]
    loan.return_condition = condition
    loan.return_note = note
    item = session.get_one(Item, loan.item_id)
    record(
        session,
        item=item,
        action=LendingAction.CONDITION_REPORTED,
        actor=actor,
        now=now,
        loan=loan,
        detail={"condition": condition.value, "note": note},
    )
    if condition is ReturnCondition.FINE:
        return
    send_to_maintenance(
        session, item=item, actor=actor, now=now, reason=condition.value, loan=loan, note=note
    )
    tool_type = session.get_one(ToolType, item.tool_type_id)
    words = "damaged" if condition is ReturnCondition.DAMAGED else "returned with parts missing"
    alerts.raise_alert(
        session,
        site_id=item.site_id,
        kind=f"lending.{condition.value}",
        severity=AlertSeverity.WARNING,
        summary=f"{tool_type.name_en} {item.asset_tag} {words}; now in maintenance",
        params=lending_catalogue.tool_params(tool_type, item),
        now=now,
        subject=f"item:{item.id}",
        resident_id=loan.resident_id,
        dedupe_key=f"lending:condition:loan:{loan.id}",
    )


def send_to_maintenance(
    session: Session,
    *,
    item: Item,
    actor: str,
    now: datetime,
    reason: str,
    loan: Loan | None = None,
    note: str = "",
) -> None:
    """Take an item out of lending until staff put it back in service. A pickup of it not
    yet at the door is released first (so nobody is handed a broken tool); one at the door,
    or a loan, refuses it (:class:`WrongLendingState`)."""
    # The item locked and read again first: a loan or pickup that got it first is seen here,
    # and one that comes later finds it in maintenance.
    row_locks.lock_item(session, item.id)
    live = door_lookup.live_pickup_of(session, item.id)
    # A pickup is locked before its item everywhere else, so it is not waited for here (that
    # could deadlock): one being moved on right now counts as at the door.
    if live is not None and not row_locks.lock_if_free(session, live):
        raise WrongLendingState("the item is being picked up", door_session_id=live.id)
    if live is not None and live.state in (DoorSessionState.RESERVED, DoorSessionState.WAITING):
        door_session.release(session, live, ReleaseReason.CANCELLED, now, actor=actor)
    elif live is not None and live.is_live:
        raise WrongLendingState("the item is being picked up", door_session_id=live.id)
    item.send_to_maintenance(reason)
    record(
        session,
        item=item,
        action=LendingAction.TO_MAINTENANCE,
        actor=actor,
        now=now,
        loan=loan,
        detail={"reason": reason, "note": note[:MAX_NOTE]},
    )


def back_in_service(
    session: Session, *, staff: StaffAccount, item_id: int, now: datetime, note: str = ""
) -> Item:
    """Staff checked and fixed an item: it can be lent again (not while a loan of it is
    still open, as records from before the item lock may show)."""
    item = lending_catalogue.get_item(
        session, site_id=staff.working_site_id, item_id=item_id, lock=True
    )
    open_loan = session.scalar(
        select(Loan.id).where(Loan.item_id == item.id, Loan.status.in_(OPEN_LOAN_STATUSES))
    )
    if open_loan is not None:
        raise WrongLendingState("the item is still on loan", loan_id=open_loan)
    item.back_in_service()
    record(
        session,
        item=item,
        action=LendingAction.BACK_IN_SERVICE,
        actor=staff_actor(staff),
        now=now,
        detail={"note": note.strip()[:MAX_NOTE]},
    )
    audit.record_staff(
        session, staff, action="lending.back_in_service", now=now, subject=f"item:{item.id}"
    )
    return item


# --- counter lending --------------------------------------------------------------------------


def lend_at_counter(
    session: Session, *, staff: StaffAccount, item_id: int, resident_id: int, now: datetime
) -> Loan:
    """Staff hand an item over at the counter (big items; also a locker item in hand)."""
    site_id = staff.working_site_id
    policy = policy_for(session, site_id)
    # The resident before the item (booking.core.row_locks): ensure_can_borrow locks the resident.
    lending_eligibility.ensure_can_borrow(
        session, site_id=site_id, resident_id=resident_id, now=now, policy=policy
    )
    item = lending_catalogue.get_item(session, site_id=site_id, item_id=item_id, lock=True)
    if item.status is not ItemStatus.AVAILABLE:
        raise ItemUnavailable("the item cannot be lent now", status=item.status.value)
    tool_type = session.get_one(ToolType, item.tool_type_id)
    lending_catalogue.ensure_not_retired(tool_type)
    try:
        # In a savepoint, so that a refusal below leaves the caller's transaction usable.
        with session.begin_nested():
            loan = start_loan(
                session,
                item=item,
                resident_id=resident_id,
                channel=LoanChannel.COUNTER,
                now=now,
                loan_days=tool_type.loan_days,
                staff_id=staff.id,
            )
    except IntegrityError as error:
        # Available, yet a loan of it is still open: records from before the item lock. The
        # index refuses the second loan; staff hear why instead of a server error.
        if not row_locks.violates(error, "ux_loans_open_item", "loans.item_id"):
            raise
        raise ItemUnavailable("the item is still on loan", item_id=item_id) from error
    record(session, item=item, action=LendingAction.LENT, actor=staff_actor(staff), now=now,
           loan=loan)  # fmt: skip
    audit.record_staff(
        session, staff, action="lending.lent", now=now, subject=f"loan:{loan.id}",
        detail={"item_id": item.id, "resident_id": resident_id},
    )  # fmt: skip
    return loan


def return_at_counter(
    session: Session,
    *,
    staff: StaffAccount,
    loan_id: int,
    condition: ReturnCondition | str,
    now: datetime,
    note: str = "",
) -> Loan:
    """Staff take an item back at the counter and say what state it is in."""
    checked = _condition(condition)
    loan = get_loan(session, site_id=staff.working_site_id, loan_id=loan_id)
    if not loan.is_open and loan.status is not LoanStatus.LOST:
        raise WrongLendingState("the item has already been returned", state=loan.status)
    item = session.get_one(Item, loan.item_id)
    end_loan(loan, item, now)
    loan.returned_to_staff_id = staff.id
    record(session, item=item, action=LendingAction.RETURNED, actor=staff_actor(staff), now=now,
           loan=loan)  # fmt: skip
    _apply_condition(session, loan, checked, note, now, actor=staff_actor(staff))
    holds.hand_over(session, item, now)  # the next returned item goes to the first claim
    audit.record_staff(
        session, staff, action="lending.returned", now=now, subject=f"loan:{loan.id}",
        detail={"condition": checked.value},
    )  # fmt: skip
    return loan


def mark_lost(
    session: Session, *, staff: StaffAccount, loan_id: int, now: datetime, note: str = ""
) -> Loan:
    """Staff give up on an item that is not coming back."""
    loan = get_loan(session, site_id=staff.working_site_id, loan_id=loan_id)
    if not loan.is_open:
        raise WrongLendingState("only an open loan can be marked lost", state=loan.status)
    item = session.get_one(Item, loan.item_id)
    loan.write_off()
    item.written_off()
    record(session, item=item, action=LendingAction.MARKED_LOST, actor=staff_actor(staff),
           now=now, loan=loan, detail={"note": note.strip()[:MAX_NOTE]})  # fmt: skip
    audit.record_staff(session, staff, action="lending.lost", now=now, subject=f"loan:{loan.id}")
    return loan
