"""Tool lending: the rules, and every change of an item, loan, pickup or return.

Each change here writes its :class:`~booking.lending.models.loans.LendingEvent` in the same transaction as
the change itself, so the history and the current state cannot disagree. What happens at a
locker is decided by the locker's own events, through its door session
(:mod:`booking.lending.door_session`): a locker loan exists only once the locker reported the item gone.

Services take a session and plain values and raise :mod:`booking.lending.errors`; who owns
the transaction (request, job, MQTT worker) opens it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity
from booking.core import audit, row_locks
from booking.core.errors import InvalidInput, ToolTypeRetired
from booking.lending import door_lookup, door_session
from booking.lending.errors import (
    InvalidCondition,
    ItemNotFound,
    ItemUnavailable,
    LendingSuspended,
    LoanLimitReached,
    NoItemAvailable,
    OverdueLoanOutstanding,
    SuspensionNotFound,
    ToolTypeNotFound,
    WrongLendingState,
)
from booking.lending.history import (
    record,
    resident_actor,
    staff_actor,
)
from booking.lending.loans import end_loan, get_loan, start_loan
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.loans import (
    OPEN_LOAN_STATUSES,
    LendingAction,
    LendingSuspension,
    Loan,
    LoanChannel,
    LoanStatus,
    ReturnCondition,
)
from booking.lending.models.tools import Item, ItemStatus, ToolType
from booking.lending.policy import Policy, policy_for
from booking.people.models.residents import ResidentMembership
from booking.people.models.staff import StaffAccount

MAX_NOTE = 500

# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueEntry:
    tool_type: ToolType
    # Items a resident can take from a locker right now, and items waiting at the counter.
    in_lockers: int
    at_counter: int

    @property
    def available(self) -> int:
        return self.in_lockers + self.at_counter


def catalogue(session: Session, *, site_id: int) -> list[CatalogueEntry]:
    """Every tool type of the site with how many of its items are available where."""
    types = list(
        session.scalars(
            select(ToolType)
            .where(ToolType.site_id == site_id, ToolType.retired_at.is_(None))
            .order_by(ToolType.id)
        )
    )
    counts: dict[tuple[int, bool], int] = {}
    rows = session.execute(
        select(Item.tool_type_id, Item.locker_device_id.is_(None), func.count())
        .where(Item.site_id == site_id, Item.status == ItemStatus.AVAILABLE)
        .group_by(Item.tool_type_id, Item.locker_device_id.is_(None))
    )
    for tool_type_id, at_counter, count in rows:
        counts[(tool_type_id, bool(at_counter))] = int(count)
    return [
        CatalogueEntry(t, counts.get((t.id, False), 0), counts.get((t.id, True), 0)) for t in types
    ]


def get_tool_type(session: Session, *, site_id: int, tool_type_id: int) -> ToolType:
    tool_type = session.get(ToolType, tool_type_id)
    if tool_type is None or tool_type.site_id != site_id:
        raise ToolTypeNotFound("no such tool", tool_type_id=tool_type_id)
    return tool_type


def ensure_not_retired(tool_type: ToolType) -> None:
    """A tool type an admin retired is lent no more (its loans' history stays)."""
    if tool_type.retired_at is not None:
        raise ToolTypeRetired("the tool is no longer lent", tool_type_id=tool_type.id)


def get_item(session: Session, *, site_id: int, item_id: int, lock: bool = False) -> Item:
    item = session.get(Item, item_id, with_for_update=lock)
    if item is None or item.site_id != site_id:
        raise ItemNotFound("no such item", item_id=item_id)
    return item



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
    return session.scalar(
        select(LendingSuspension)
        .where(
            LendingSuspension.site_id == site_id,
            LendingSuspension.resident_id == resident_id,
            LendingSuspension.starts_at <= now,
            LendingSuspension.ends_at > now,
            LendingSuspension.lifted_at.is_(None),
        )
        .order_by(LendingSuspension.ends_at.desc())
        .limit(1)
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
        select(ResidentMembership.id).where(
            ResidentMembership.site_id == site_id, ResidentMembership.resident_id == resident_id
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


# --- locker pickup (the door session: booking.lending.door_session) ------------------------------------


def reserve(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int, now: datetime,
    among: Collection[int] | None = None,
) -> DoorSession:  # fmt: skip
    """Hold one available locker item of the type for the resident, for the policy's hold.

    The lowest-numbered free item is taken (of the item ids ``among``, when given: those
    whose locker can be used now); the item's row is locked so two kiosks cannot hold the
    same one (and the partial unique index would refuse it anyway).
    """
    policy = policy_for(session, site_id)
    ensure_not_retired(get_tool_type(session, site_id=site_id, tool_type_id=tool_type_id))
    ensure_can_borrow(session, site_id=site_id, resident_id=resident_id, now=now, policy=policy)
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
        actor=resident_actor(resident_id),
        now=now,
        door_session=reservation,
    )
    return reservation



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
        params=_tool_params(tool_type, item),
        now=now,
        subject=f"item:{item.id}",
        resident_id=loan.resident_id,
        dedupe_key=f"lending:condition:loan:{loan.id}",
    )


def _tool_params(tool_type: ToolType, item: Item) -> dict[str, str | int]:
    """What the console needs to name a tool in an alert's summary, in either language."""
    return {"tool_zh": tool_type.name_zh, "tool_en": tool_type.name_en, "asset": item.asset_tag}


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
    item = get_item(session, site_id=staff.site_id, item_id=item_id, lock=True)
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
    site_id = staff.site_id
    policy = policy_for(session, site_id)
    # The resident before the item (booking.core.row_locks): ensure_can_borrow locks the resident.
    ensure_can_borrow(session, site_id=site_id, resident_id=resident_id, now=now, policy=policy)
    item = get_item(session, site_id=site_id, item_id=item_id, lock=True)
    if item.status is not ItemStatus.AVAILABLE:
        raise ItemUnavailable("the item cannot be lent now", status=item.status.value)
    tool_type = session.get_one(ToolType, item.tool_type_id)
    ensure_not_retired(tool_type)
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
    loan = get_loan(session, site_id=staff.site_id, loan_id=loan_id)
    if not loan.is_open and loan.status is not LoanStatus.LOST:
        raise WrongLendingState("the item has already been returned", state=loan.status)
    item = session.get_one(Item, loan.item_id)
    end_loan(loan, item, now)
    loan.returned_to_staff_id = staff.id
    record(session, item=item, action=LendingAction.RETURNED, actor=staff_actor(staff), now=now,
           loan=loan)  # fmt: skip
    _apply_condition(session, loan, checked, note, now, actor=staff_actor(staff))
    audit.record_staff(
        session, staff, action="lending.returned", now=now, subject=f"loan:{loan.id}",
        detail={"condition": checked.value},
    )  # fmt: skip
    return loan


def mark_lost(
    session: Session, *, staff: StaffAccount, loan_id: int, now: datetime, note: str = ""
) -> Loan:
    """Staff give up on an item that is not coming back."""
    loan = get_loan(session, site_id=staff.site_id, loan_id=loan_id)
    if not loan.is_open:
        raise WrongLendingState("only an open loan can be marked lost", state=loan.status)
    item = session.get_one(Item, loan.item_id)
    loan.write_off()
    item.written_off()
    record(session, item=item, action=LendingAction.MARKED_LOST, actor=staff_actor(staff),
           now=now, loan=loan, detail={"note": note.strip()[:MAX_NOTE]})  # fmt: skip
    audit.record_staff(session, staff, action="lending.lost", now=now, subject=f"loan:{loan.id}")
    return loan


# --- overdue ----------------------------------------------------------------------------------


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
        params={**_tool_params(tool_type, item), "days": days},
        now=now,
        subject=f"loan:{loan.id}",
        resident_id=loan.resident_id,
        dedupe_key=f"lending:overdue:loan:{loan.id}",
    )
    record(session, item=item, action=LendingAction.OVERDUE_ESCALATED, actor="system:overdue",
           now=now, loan=loan, detail={"days_overdue": days})  # fmt: skip
    return True


def lift_suspension(
    session: Session, *, staff: StaffAccount, suspension_id: int, now: datetime, reason: str
) -> LendingSuspension:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the suspension is lifted")
    suspension = session.get(LendingSuspension, suspension_id, with_for_update=True)
    if suspension is None or suspension.site_id != staff.site_id:
        raise SuspensionNotFound("no such suspension", suspension_id=suspension_id)
    if suspension.lifted_at is not None or suspension.ends_at <= now:
        raise WrongLendingState("the suspension is not active")
    suspension.lifted_at = now
    suspension.lifted_by_staff_id = staff.id
    suspension.lift_reason = reason[:300]
    audit.record_staff(
        session, staff, action="lending.suspension_lifted", now=now,
        subject=f"resident:{suspension.resident_id}", detail={"reason": reason[:300]},
    )  # fmt: skip
    return suspension
