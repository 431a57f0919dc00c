"""Tool lending: the rules, and every change of an item, loan, pickup or return.

Each change here writes its :class:`~booking.models.LendingEvent` in the same transaction as
the change itself, so the history and the current state cannot disagree. What happens at a
locker is decided by the locker's own events (``devices.lending_events`` calls in here from
the ingest transaction): a locker loan exists only once the locker reported the item gone.

Services take a session and plain values and raise :mod:`booking.lending_errors`; who owns
the transaction (request, job, MQTT worker) opens it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking import alerts, audit
from booking.errors import InvalidInput, ToolTypeRetired
from booking.lending_errors import (
    InvalidCondition,
    ItemNotFound,
    ItemUnavailable,
    LendingSuspended,
    LoanLimitReached,
    LoanNotFound,
    NoItemAvailable,
    NotInLocker,
    OverdueLoanOutstanding,
    ReservationNotFound,
    ReturnNotFound,
    SuspensionNotFound,
    ToolTypeNotFound,
    WrongLendingState,
)
from booking.models import (
    LIVE_RESERVATION_STATES,
    LIVE_RETURN_STATES,
    OPEN_LOAN_STATUSES,
    AlertSeverity,
    Item,
    ItemStatus,
    LendingAction,
    LendingEvent,
    LendingPolicy,
    LendingSuspension,
    Loan,
    LoanChannel,
    LoanStatus,
    ReleaseReason,
    Reservation,
    ReservationState,
    ResidentMembership,
    ReturnAttempt,
    ReturnCondition,
    ReturnState,
    StaffAccount,
    ToolType,
)

MAX_NOTE = 500

# --- policy -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """A site's lending rules (see :class:`~booking.models.LendingPolicy` for their meaning)."""

    max_items_on_loan: int = 3
    hold: timedelta = timedelta(minutes=120)
    door_open_timeout: timedelta = timedelta(seconds=60)
    overdue_strikes: int = 2
    overdue_window: timedelta = timedelta(days=90)
    suspension: timedelta = timedelta(days=30)
    escalate_after: timedelta = timedelta(days=3)


DEFAULT_POLICY = Policy()


def policy_for(session: Session, site_id: int) -> Policy:
    """The site's policy row, or the defaults when the site has none."""
    row = session.scalar(select(LendingPolicy).where(LendingPolicy.site_id == site_id))
    if row is None:
        return DEFAULT_POLICY
    return Policy(
        max_items_on_loan=row.max_items_on_loan,
        hold=timedelta(minutes=row.hold_minutes),
        door_open_timeout=timedelta(seconds=row.door_open_timeout_s),
        overdue_strikes=row.overdue_strikes,
        overdue_window=timedelta(days=row.overdue_window_days),
        suspension=timedelta(days=row.suspension_days),
        escalate_after=timedelta(days=row.escalate_after_days),
    )


# --- history ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceRef:
    """The device message that confirmed a change: (device, session, seq) is its ledger key."""

    device_id: str
    session: int
    seq: int


def resident_actor(resident_id: int) -> str:
    return f"resident:{resident_id}"


def staff_actor(staff: StaffAccount) -> str:
    return audit.staff_actor(staff)


def device_actor(device_id: str) -> str:
    return f"device:{device_id}"


def record(
    session: Session,
    *,
    item: Item,
    action: LendingAction,
    actor: str,
    now: datetime,
    loan: Loan | None = None,
    resident_id: int | None = None,
    reservation: Reservation | None = None,
    return_attempt: ReturnAttempt | None = None,
    command_id: str | None = None,
    device: DeviceRef | None = None,
    detail: dict[str, Any] | None = None,
) -> LendingEvent:
    """Append one history row, taking the item's (and loan's) status as they are now."""
    if resident_id is None:
        for holder in (loan, reservation, return_attempt):
            if holder is not None:
                resident_id = holder.resident_id
                break
    event = LendingEvent(
        site_id=item.site_id,
        at=now,
        item_id=item.id,
        item_status=item.status,
        loan_id=loan.id if loan is not None else None,
        loan_status=loan.status if loan is not None else None,
        resident_id=resident_id,
        reservation_id=reservation.id if reservation is not None else None,
        return_id=return_attempt.id if return_attempt is not None else None,
        actor=actor[:80],
        action=action,
        device_command_id=command_id,
        device_id=device.device_id if device is not None else None,
        device_session=device.session if device is not None else None,
        device_seq=device.seq if device is not None else None,
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event


def history_of_item(session: Session, item_id: int) -> list[LendingEvent]:
    return list(
        session.scalars(
            select(LendingEvent)
            .where(LendingEvent.item_id == item_id)
            .order_by(LendingEvent.at, LendingEvent.id)
        )
    )


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


def live_reservations(session: Session, *, site_id: int, resident_id: int) -> list[Reservation]:
    return list(
        session.scalars(
            select(Reservation)
            .where(
                Reservation.site_id == site_id,
                Reservation.resident_id == resident_id,
                Reservation.state.in_(LIVE_RESERVATION_STATES),
            )
            .order_by(Reservation.id)
        )
    )


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
    overdue, and under the site's limit (open loans and live pickups together)."""
    member = session.scalar(
        select(ResidentMembership.id).where(
            ResidentMembership.site_id == site_id, ResidentMembership.resident_id == resident_id
        )
    )
    if member is None:
        raise ItemUnavailable("not a member of this centre", resident_id=resident_id)
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


# --- at a compartment: what a pickup and a return share ---------------------------------------

# A pickup (Reservation) and a return (ReturnAttempt) take the same steps at a compartment:
# open requested, unlocked, door opened, then done or released. Each keeps its own states
# (the enums differ, so the transitions stay in each flow's functions); what a step stamps
# and writes to the history is the same, and is written once, here.
LockerVisit = Reservation | ReturnAttempt
_Visit = TypeVar("_Visit", Reservation, ReturnAttempt)


def _get_visit(
    session: Session, model: type[_Visit], visit_id: int, *, site_id: int | None,
    resident_id: int | None,
) -> _Visit | None:  # fmt: skip
    """The pickup or return, locked, if it is of the site and the resident (when given)."""
    visit = session.get(model, visit_id, with_for_update=True)
    if (
        visit is None
        or (site_id is not None and visit.site_id != site_id)
        or (resident_id is not None and visit.resident_id != resident_id)
    ):
        return None
    return visit


def _record_visit(
    session: Session,
    visit: LockerVisit,
    action: LendingAction,
    now: datetime,
    *,
    actor: str,
    loan: Loan | None = None,
    device: DeviceRef | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The history row of one step of a pickup or a return (a return's names its loan)."""
    reservation = visit if isinstance(visit, Reservation) else None
    attempt = visit if isinstance(visit, ReturnAttempt) else None
    if attempt is not None and loan is None:
        loan = session.get_one(Loan, attempt.loan_id)
    record(
        session,
        item=session.get_one(Item, visit.item_id),
        action=action,
        actor=actor,
        now=now,
        loan=loan,
        reservation=reservation,
        return_attempt=attempt,
        command_id=visit.command_id,
        device=device,
        detail=detail,
    )


def _open_requested(session: Session, visit: LockerVisit, purpose: str, now: datetime) -> None:
    _record_visit(
        session,
        visit,
        LendingAction.OPEN_REQUESTED,
        now,
        actor=resident_actor(visit.resident_id),
        detail={"purpose": purpose, "compartment": visit.compartment},
    )


def _door_opened(session: Session, visit: LockerVisit, now: datetime, device: DeviceRef) -> None:
    """Stamp a pickup's or return's door as open (its caller moved its state on)."""
    visit.door_opened_at = now
    if visit.unlocked_at is None:
        # The event overtook the reply: the door being open proves the unlock.
        visit.unlocked_at = now
    _record_visit(session, visit, LendingAction.DOOR_OPENED, now,
                  actor=device_actor(device.device_id), device=device)  # fmt: skip


def _released(
    session: Session,
    visit: LockerVisit,
    action: LendingAction,
    reason: ReleaseReason,
    now: datetime,
    *,
    actor: str,
    device: DeviceRef | None,
    command_reason: str | None,
) -> None:
    """Stamp a pickup or return as ended without its goal (its caller set the state)."""
    visit.release_reason = reason
    visit.finished_at = now
    _record_visit(session, visit, action, now, actor=actor, device=device,
                  detail=_release_detail(reason, command_reason))  # fmt: skip


def _release_detail(reason: ReleaseReason, command_reason: str | None) -> dict[str, Any]:
    detail: dict[str, Any] = {"reason": reason.value}
    if command_reason:
        detail["device_reason"] = command_reason
    return detail


# --- locker pickup ----------------------------------------------------------------------------


def reserve(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int, now: datetime
) -> Reservation:
    """Hold one available locker item of the type for the resident, for the policy's hold.

    The lowest-numbered free item is taken; the item's row is locked so two kiosks cannot
    hold the same one (and the partial unique index would refuse it anyway).
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
        )
        .order_by(Item.locker_device_id, Item.compartment)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if item is None:
        raise NoItemAvailable("no item of this tool is free in a locker", tool_type_id=tool_type_id)
    reservation = Reservation(
        site_id=site_id,
        item_id=item.id,
        resident_id=resident_id,
        state=ReservationState.RESERVED,
        created_at=now,
        expires_at=now + policy.hold,
        device_id=item.locker_device_id,
        compartment=item.compartment,
    )
    session.add(reservation)
    item.status = ItemStatus.RESERVED
    session.flush()
    record(
        session,
        item=item,
        action=LendingAction.RESERVED,
        actor=resident_actor(resident_id),
        now=now,
        reservation=reservation,
    )
    return reservation


def get_reservation(
    session: Session, *, reservation_id: int, site_id: int | None = None,
    resident_id: int | None = None,
) -> Reservation:  # fmt: skip
    reservation = _get_visit(
        session, Reservation, reservation_id, site_id=site_id, resident_id=resident_id
    )
    if reservation is None:
        raise ReservationNotFound("no such pickup", reservation_id=reservation_id)
    return reservation


def begin_opening(
    session: Session, reservation: Reservation, *, command_id: str, now: datetime
) -> None:
    """The open command for the pickup has been issued (in this same transaction)."""
    if reservation.state is not ReservationState.RESERVED:
        raise WrongLendingState("the pickup is not waiting to open", state=reservation.state)
    if reservation.expires_at <= now:
        raise WrongLendingState("the hold has expired", state=reservation.state)
    item = session.get_one(Item, reservation.item_id)
    reservation.state = ReservationState.OPENING
    reservation.command_id = command_id
    reservation.opening_at = now
    # The item may have been moved since it was reserved: the command went where it is now.
    reservation.device_id = item.locker_device_id
    reservation.compartment = item.compartment
    _open_requested(session, reservation, "pickup", now)


def note_unlocked(session: Session, reservation: Reservation, now: datetime) -> None:
    """The locker answered ``done``: the compartment is unlocked; the door clock starts."""
    if reservation.state is ReservationState.OPENING and reservation.unlocked_at is None:
        reservation.unlocked_at = now


def note_door_opened(
    session: Session, reservation: Reservation, now: datetime, device: DeviceRef
) -> None:
    if reservation.state is not ReservationState.OPENING:
        return
    reservation.state = ReservationState.DOOR_OPEN
    _door_opened(session, reservation, now, device)


def complete_pickup(
    session: Session, reservation: Reservation, now: datetime, device: DeviceRef
) -> Loan:
    """The locker reported the item gone while the pickup's door was open: the loan begins."""
    if reservation.state is not ReservationState.DOOR_OPEN:
        raise WrongLendingState("the pickup's door is not open", state=reservation.state)
    item = session.get_one(Item, reservation.item_id)
    tool_type = session.get_one(ToolType, item.tool_type_id)
    reservation.state = ReservationState.COMPLETED
    reservation.finished_at = now
    loan = _start_loan(
        session,
        item=item,
        resident_id=reservation.resident_id,
        channel=LoanChannel.LOCKER,
        now=now,
        loan_days=tool_type.loan_days,
    )
    loan.reservation_id = reservation.id
    _record_visit(session, reservation, LendingAction.LENT, now,
                  actor=device_actor(device.device_id), loan=loan, device=device)  # fmt: skip
    return loan


def _start_loan(
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
    session.add(loan)
    item.status = ItemStatus.ON_LOAN
    session.flush()
    return loan


def release(
    session: Session,
    reservation: Reservation,
    reason: ReleaseReason,
    now: datetime,
    *,
    actor: str,
    device: DeviceRef | None = None,
    command_reason: str | None = None,
) -> bool:
    """End a live pickup without a loan; the item is available again (unless it has since
    gone to maintenance or gone missing). Returns False if it had already ended."""
    if reservation.state.is_final:
        return False
    reservation.state = ReservationState.RELEASED
    item = session.get_one(Item, reservation.item_id)
    if item.status is ItemStatus.RESERVED:
        item.status = ItemStatus.AVAILABLE
    _released(session, reservation, LendingAction.RESERVATION_RELEASED, reason, now,
              actor=actor, device=device, command_reason=command_reason)  # fmt: skip
    return True


def cancel_reservation(
    session: Session, *, site_id: int, resident_id: int, reservation_id: int, now: datetime
) -> Reservation:
    """The resident changed their mind before the compartment was asked to open."""
    reservation = get_reservation(
        session, reservation_id=reservation_id, site_id=site_id, resident_id=resident_id
    )
    if reservation.state is not ReservationState.RESERVED:
        raise WrongLendingState("the compartment is already opening", state=reservation.state)
    release(session, reservation, ReleaseReason.CANCELLED, now, actor=resident_actor(resident_id))
    return reservation


# The locker relocks an unopened door on its own clock; a door_opened sent just before that
# may still be on its way. Giving up only this much later never turns a real pickup into a
# "tool gone without a loan" alarm.
DOOR_EVENT_GRACE = timedelta(seconds=10)


def door_timed_out(reservation: Reservation | ReturnAttempt, now: datetime, policy: Policy) -> bool:
    """Unlocked, and nobody opened the door within the policy's time (plus the grace)."""
    return (
        reservation.door_opened_at is None
        and reservation.unlocked_at is not None
        and now - reservation.unlocked_at > policy.door_open_timeout + DOOR_EVENT_GRACE
    )


# --- locker return ----------------------------------------------------------------------------


def loan_for_locker_return(
    session: Session, *, site_id: int, resident_id: int, loan_id: int
) -> tuple[Loan, Item]:
    """The resident's open loan of a locker item, ready to go back to its compartment."""
    loan = get_loan(session, site_id=site_id, loan_id=loan_id, resident_id=resident_id)
    if not loan.is_open:
        raise WrongLendingState("the item has already been returned", state=loan.status)
    item = session.get_one(Item, loan.item_id)
    if item.locker_device_id is None or item.compartment is None:
        raise NotInLocker("this item goes back to the counter", item_id=item.id)
    live = session.scalar(
        select(ReturnAttempt).where(
            ReturnAttempt.loan_id == loan.id, ReturnAttempt.state.in_(LIVE_RETURN_STATES)
        )
    )
    if live is not None:
        raise WrongLendingState("a return of this item is under way", return_id=live.id)
    return loan, item


def begin_return(session: Session, loan: Loan, item: Item, *, now: datetime) -> ReturnAttempt:
    """Start a return to the item's own compartment; the caller issues the open command
    (with the attempt's id as its reason) and reports it with :func:`return_open_requested`."""
    assert item.locker_device_id is not None and item.compartment is not None
    attempt = ReturnAttempt(
        site_id=loan.site_id,
        loan_id=loan.id,
        item_id=item.id,
        resident_id=loan.resident_id,
        state=ReturnState.OPENING,
        device_id=item.locker_device_id,
        compartment=item.compartment,
        created_at=now,
    )
    session.add(attempt)
    session.flush()
    return attempt


def return_open_requested(
    session: Session, attempt: ReturnAttempt, *, command_id: str, now: datetime
) -> None:
    """The open command for a return has been issued (in this same transaction)."""
    attempt.command_id = command_id
    _open_requested(session, attempt, "return", now)


def get_return(
    session: Session, *, return_id: int, site_id: int | None = None,
    resident_id: int | None = None,
) -> ReturnAttempt:  # fmt: skip
    attempt = _get_visit(session, ReturnAttempt, return_id, site_id=site_id,
                         resident_id=resident_id)  # fmt: skip
    if attempt is None:
        raise ReturnNotFound("no such return", return_id=return_id)
    return attempt


def note_return_unlocked(session: Session, attempt: ReturnAttempt, now: datetime) -> None:
    if attempt.state is ReturnState.OPENING and attempt.unlocked_at is None:
        attempt.unlocked_at = now


def note_return_door_opened(
    session: Session, attempt: ReturnAttempt, now: datetime, device: DeviceRef
) -> None:
    if attempt.state is not ReturnState.OPENING:
        return
    attempt.state = ReturnState.DOOR_OPEN
    _door_opened(session, attempt, now, device)


def complete_return(
    session: Session, attempt: ReturnAttempt, now: datetime, device: DeviceRef
) -> Loan:
    """The door closed with the item inside its own compartment: the loan is returned."""
    if attempt.state is not ReturnState.DOOR_OPEN:
        raise WrongLendingState("the return's door is not open", state=attempt.state)
    attempt.state = ReturnState.RETURNED
    attempt.finished_at = now
    loan = session.get_one(Loan, attempt.loan_id)
    item = session.get_one(Item, attempt.item_id)
    _end_loan(loan, item, now)
    _record_visit(session, attempt, LendingAction.RETURNED, now,
                  actor=device_actor(device.device_id), loan=loan, device=device)  # fmt: skip
    return loan


def return_to_locker_at_once(
    session: Session, loan: Loan, item: Item, now: datetime, device: DeviceRef
) -> None:
    """The tool went back into its compartment before the pickup's door even closed: the
    resident changed their mind, so the loan ends as soon as it began."""
    _end_loan(loan, item, now)
    loan.return_condition = ReturnCondition.FINE
    record(
        session,
        item=item,
        action=LendingAction.RETURNED,
        actor=device_actor(device.device_id),
        now=now,
        loan=loan,
        device=device,
        detail={"put_back_during_pickup": True},
    )


def _end_loan(loan: Loan, item: Item, now: datetime) -> None:
    loan.status = LoanStatus.RETURNED
    loan.returned_at = now
    if item.status in (ItemStatus.ON_LOAN, ItemStatus.OVERDUE, ItemStatus.LOST):
        item.status = ItemStatus.AVAILABLE


def release_return(
    session: Session,
    attempt: ReturnAttempt,
    reason: ReleaseReason,
    now: datetime,
    *,
    actor: str,
    device: DeviceRef | None = None,
    command_reason: str | None = None,
) -> bool:
    """End a return attempt without the item back: the loan stays open."""
    if attempt.state.is_final:
        return False
    attempt.state = ReturnState.RELEASED
    _released(session, attempt, LendingAction.RETURN_RELEASED, reason, now,
              actor=actor, device=device, command_reason=command_reason)  # fmt: skip
    return True


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
    """Take an item out of lending until staff put it back in service. A live pickup of it
    is released first (so nobody is handed a broken tool)."""
    live = session.scalar(
        select(Reservation).where(
            Reservation.item_id == item.id, Reservation.state.in_(LIVE_RESERVATION_STATES)
        )
    )
    if live is not None and live.state is ReservationState.RESERVED:
        release(session, live, ReleaseReason.CANCELLED, now, actor=actor)
    if item.status in (ItemStatus.AVAILABLE, ItemStatus.RESERVED):
        item.status = ItemStatus.MAINTENANCE
    item.condition = reason[:200]
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
    """Staff checked and fixed an item: it can be lent again."""
    item = get_item(session, site_id=staff.site_id, item_id=item_id, lock=True)
    if item.status is not ItemStatus.MAINTENANCE:
        raise WrongLendingState("the item is not in maintenance", status=item.status)
    item.status = ItemStatus.AVAILABLE
    item.condition = "good"
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
    item = get_item(session, site_id=site_id, item_id=item_id, lock=True)
    ensure_can_borrow(session, site_id=site_id, resident_id=resident_id, now=now, policy=policy)
    if item.status is not ItemStatus.AVAILABLE:
        raise ItemUnavailable("the item cannot be lent now", status=item.status.value)
    tool_type = session.get_one(ToolType, item.tool_type_id)
    ensure_not_retired(tool_type)
    loan = _start_loan(
        session,
        item=item,
        resident_id=resident_id,
        channel=LoanChannel.COUNTER,
        now=now,
        loan_days=tool_type.loan_days,
        staff_id=staff.id,
    )
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
    _end_loan(loan, item, now)
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
    loan.status = LoanStatus.LOST
    item.status = ItemStatus.LOST
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
    loan.status = LoanStatus.OVERDUE
    loan.overdue_since = now
    item = session.get_one(Item, loan.item_id)
    if item.status is ItemStatus.ON_LOAN:
        item.status = ItemStatus.OVERDUE
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
