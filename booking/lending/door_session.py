"""The rules of a locker door session: a pickup or a return at one compartment.

The device side tells what the locker did (``devices.locker.events`` from the ingest
transaction, ``devices.locker.opening`` for the open command); these functions decide what it
means for the item and the loan, move the session through its model's methods, and write the
lending history in the same transaction. A pickup's loan begins when the item leaves the
compartment; a return ends its loan when the door closes with the item inside; either
session ends when its door closes, so a compartment serves one door cycle at a time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, StaffAlert
from booking.lending import door_lookup as found
from booking.lending import history as lending_history
from booking.lending import holds
from booking.lending import loans as lending_loans
from booking.lending import policy as lending_policy
from booking.lending.errors import NotInLocker, WrongLendingState
from booking.lending.models.door_sessions import (
    LIVE_DOOR_STATES,
    DoorPurpose,
    DoorSession,
    DoorSessionState,
    ReleaseReason,
)
from booking.lending.models.events import LendingAction
from booking.lending.models.loans import Loan, LoanChannel, ReturnCondition
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item

# The locker relocks an unopened door on its own clock; a door_opened sent just before that
# may still be on its way. Giving up only this much later keeps a real pickup on its normal
# path (a later one still becomes a loan, confirmed late).
DOOR_EVENT_GRACE = timedelta(seconds=10)
# How long a session waits for its compartment to close and relock from the cycle before.
# A resident closes a door within seconds; longer means the door was left open, and the
# resident is told rather than kept waiting.
CLOSING_PATIENCE = timedelta(minutes=2)


# --- history ------------------------------------------------------------------------------------


def _record(
    session: Session,
    door: DoorSession,
    action: LendingAction,
    now: datetime,
    *,
    actor: str,
    device: lending_history.DeviceRef | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The history row of one step of a session (naming its loan, when it has one)."""
    lending_history.record(
        session,
        item=session.get_one(Item, door.item_id),
        action=action,
        actor=actor,
        now=now,
        loan=session.get(Loan, door.loan_id) if door.loan_id is not None else None,
        resident_id=door.resident_id,
        door_session=door,
        command_id=door.command_id,
        device=device,
        detail=detail,
    )


# --- starting -----------------------------------------------------------------------------------


def begin_return(
    session: Session, *, site_id: int, resident_id: int, loan_id: int, now: datetime
) -> DoorSession:
    """Start a return of the resident's open loan to its item's own compartment; the device
    side then opens the compartment (or waits for it) for the session."""
    loan = lending_loans.get_loan(
        session, site_id=site_id, loan_id=loan_id, resident_id=resident_id
    )
    if not loan.is_open:
        raise WrongLendingState("the item has already been returned", state=loan.status)
    item = session.get_one(Item, loan.item_id, with_for_update=True)
    if item.locker_device_id is None or item.compartment is None:
        raise NotInLocker("this item goes back to the counter", item_id=item.id)
    live = session.scalar(
        select(DoorSession.id).where(
            DoorSession.item_id == item.id,
            DoorSession.purpose == DoorPurpose.RETURN,
            DoorSession.state.in_(LIVE_DOOR_STATES),
        )
    )
    if live is not None:
        raise WrongLendingState("a return of this item is under way", door_session_id=live)
    door = DoorSession.for_return(
        site_id=site_id, item_id=item.id, resident_id=resident_id, loan_id=loan.id,
        device_id=item.locker_device_id, compartment=item.compartment, now=now,
    )  # fmt: skip
    session.add(door)
    session.flush()
    return door


def wait_for_compartment(session: Session, door: DoorSession, now: datetime) -> None:
    """The compartment is still closing from its last cycle: the open goes when it is free."""
    door.wait_for_compartment(now, CLOSING_PATIENCE)


def open_requested(session: Session, door: DoorSession, *, command_id: str, now: datetime) -> None:
    """The session's open command has been issued (in this same transaction)."""
    if door.is_pickup:
        # The item may have been moved since it was reserved: the command went where it is.
        item = session.get_one(Item, door.item_id)
        if item.locker_device_id is not None and item.compartment is not None:
            door.device_id, door.compartment = item.locker_device_id, item.compartment
    door.open_requested(command_id, now)
    _record(session, door, LendingAction.OPEN_REQUESTED, now,
            actor=lending_history.resident_actor(door.resident_id),
            detail={"purpose": door.purpose.value, "compartment": door.compartment})  # fmt: skip


# --- at the door --------------------------------------------------------------------------------


def unlocked(session: Session, door: DoorSession, at: datetime) -> None:
    """The locker answered ``done``: the compartment is unlocked; the door clock starts."""
    door.unlocked(at)


def door_opened(
    session: Session, door: DoorSession, now: datetime, device: lending_history.DeviceRef
) -> None:
    """The door opened with the session's command. Late news of a released session is kept
    too, so a late "item removed" finds who opened the door."""
    late = not door.door_opened(now)
    if late:
        if door.state is not DoorSessionState.RELEASED or door.door_opened_at is not None:
            return
        door.stamp_late_door(now)
    _record(session, door, LendingAction.DOOR_OPENED, now,
            actor=lending_history.device_actor(device.device_id), device=device,
            detail={"after_release": True} if late else None)  # fmt: skip


def item_sensed(
    session: Session,
    door: DoorSession,
    present: bool,
    now: datetime,
    device: lending_history.DeviceRef,
) -> None:
    """The item sensor changed while the session's door is open.

    A pickup's loan begins the moment the tool leaves, before the door closes (the resident
    may walk away with the door open). A tool put straight back during the same door cycle
    ends that loan at once: the resident changed their mind.
    """
    door.item_sensed(present)
    if not door.is_pickup:
        return
    item = session.get_one(Item, door.item_id, with_for_update=True)
    loan = session.get(Loan, door.loan_id) if door.loan_id is not None else None
    if not present:
        if loan is None or not loan.is_open:  # (gone twice is still one loan)
            _lend(session, door, item, now, device)
        return
    if loan is not None and loan.is_open:
        lending_loans.end_loan(loan, item, now)
        loan.return_condition = ReturnCondition.FINE
        _record(session, door, LendingAction.RETURNED, now,
                actor=lending_history.device_actor(device.device_id), device=device,
                detail={"put_back_during_pickup": True})  # fmt: skip


def _lend(
    session: Session, door: DoorSession, item: Item, now: datetime, device: lending_history.DeviceRef,
    *, late: bool = False,
) -> Loan:  # fmt: skip
    tool_type = session.get_one(ToolType, item.tool_type_id)
    loan = lending_loans.start_loan(
        session, item=item, resident_id=door.resident_id, channel=LoanChannel.LOCKER, now=now,
        loan_days=tool_type.loan_days, staff_id=door.requested_by_staff_id,
    )  # fmt: skip
    if late:
        loan.confirmed_late = True
        door.confirmed_late(loan.id)
    else:
        door.loan_began(loan.id)
    _record(session, door, LendingAction.LENT, now, actor=lending_history.device_actor(device.device_id),
            device=device, detail={"confirmed_late": True} if late else None)  # fmt: skip
    return loan


def door_closed(
    session: Session, door: DoorSession, now: datetime, device: lending_history.DeviceRef
) -> None:
    """The session's door closed: its cycle is over, with the goal reached or not."""
    actor = lending_history.device_actor(device.device_id)
    if door.goal_reached:
        door.complete(now)
        if door.is_pickup:
            _record(session, door, LendingAction.DOOR_CLOSED, now, actor=actor, device=device)
            return
        loan = session.get_one(Loan, door.loan_id, with_for_update=True)
        item = session.get_one(Item, door.item_id)
        lending_loans.end_loan(loan, item, now)
        _record(session, door, LendingAction.RETURNED, now, actor=actor, device=device)
        holds.hand_over(session, item, now)  # held at once for the first who waits
        return
    reason = ReleaseReason.ITEM_LEFT_INSIDE if door.is_pickup else ReleaseReason.NOTHING_RETURNED
    release(session, door, reason, now, actor=actor, device=device)


def confirm_pickup_late(
    session: Session, door: DoorSession, now: datetime, device: lending_history.DeviceRef
) -> Loan:
    """The item left after its pickup had been given up (the locker's events came late, a
    retry after an outage): the loan is the resident's who opened the door, marked confirmed
    late, and staff are asked to check it. Nothing is left without a loan."""
    item = session.get_one(Item, door.item_id, with_for_update=True)
    since = found.live_pickup_of(session, item.id)
    if since is not None:
        # Held again meanwhile: that pickup cannot happen, the tool is gone.
        release(session, since, ReleaseReason.CANCELLED, now,
                actor=lending_history.device_actor(device.device_id), device=device)  # fmt: skip
    loan = _lend(session, door, item, now, device, late=True)
    if since is not None and since.resident_id == door.resident_id:
        # The same resident's retry: its waiting screen shows the loan they did get.
        since.confirmed_late(loan.id)
    alert_about_compartment(
        session, item, device_id=door.device_id, compartment=door.compartment, now=now,
        kind="lending.confirmed_late", severity=AlertSeverity.WARNING,
        summary="{tool} {asset} left {device} compartment {compartment} after its pickup had "
        "ended; lent to the resident who opened it",
        subject=f"loan:{loan.id}", resident_id=door.resident_id,
        dedupe_key=f"lending:confirmed_late:loan:{loan.id}",
    )  # fmt: skip
    return loan


def alert_about_compartment(
    session: Session, item: Item, *, device_id: str, compartment: int, now: datetime,
    kind: str, severity: AlertSeverity, summary: str, subject: str, dedupe_key: str,
    resident_id: int | None = None,
) -> StaffAlert:  # fmt: skip
    """Tell staff about a tool at a locker compartment. ``summary`` is the English line, with
    ``{tool}``, ``{asset}``, ``{device}`` and ``{compartment}`` filled in; the console words
    it in either language from the same params. Returns the alert (the one still open for
    ``dedupe_key``, if there is one)."""
    tool_type = session.get_one(ToolType, item.tool_type_id)
    return alerts.raise_alert(
        session,
        site_id=item.site_id,
        kind=kind,
        severity=severity,
        summary=summary.format(
            tool=tool_type.name_en, asset=item.asset_tag, device=device_id, compartment=compartment
        ),
        params={
            "tool_zh": tool_type.name_zh,
            "tool_en": tool_type.name_en,
            "asset": item.asset_tag,
            "device": device_id,
            "compartment": compartment,
        },
        now=now,
        subject=subject,
        resident_id=resident_id,
        dedupe_key=dedupe_key,
    )


def late_pickup_at(session: Session, device_id: str, n: int, item_id: int) -> DoorSession | None:
    """The released pickup whose door was the last one of ours to open at the compartment,
    if its item is the one there and no loan came of it."""
    last = session.scalar(
        select(DoorSession)
        .where(
            DoorSession.device_id == device_id,
            DoorSession.compartment == n,
            DoorSession.door_opened_at.is_not(None),
        )
        .order_by(DoorSession.door_opened_at.desc(), DoorSession.id.desc())
        .limit(1)
        .with_for_update()
    )
    if (
        last is None
        or not last.is_pickup
        or last.state is not DoorSessionState.RELEASED
        or last.loan_id is not None
        or last.item_id != item_id
    ):
        return None
    return last


# --- ending without the goal ----------------------------------------------------------------------


def release(
    session: Session,
    door: DoorSession,
    reason: ReleaseReason,
    now: datetime,
    *,
    actor: str,
    device: lending_history.DeviceRef | None = None,
    command_reason: str | None = None,
) -> bool:
    """End a live session without its goal: a pickup's item is available again (unless it has
    since gone to maintenance or missing), a return's loan stays open. False if it had
    already ended."""
    if not door.release(reason, now):
        return False
    action = LendingAction.RETURN_RELEASED
    if door.is_pickup:
        action = LendingAction.RESERVATION_RELEASED
        item = session.get_one(Item, door.item_id)
        item.reservation_released()
    detail: dict[str, Any] = {"reason": reason.value}
    if command_reason:
        detail["device_reason"] = command_reason
    _record(session, door, action, now, actor=actor, device=device, detail=detail)
    return True


def check_clocks(session: Session, door: DoorSession, now: datetime, *, actor: str) -> bool:
    """Release a live session whose time ran out: a hold nobody came to open, a compartment
    that never became free, a door unlocked but not opened within the policy's time (plus
    the grace). The one place these clocks are enforced; True if it released the session."""
    if door.waited_too_long(now):
        reason = ReleaseReason.HOLD_EXPIRED
        if door.state is DoorSessionState.WAITING:
            reason = ReleaseReason.COMPARTMENT_NOT_FREE
        return release(session, door, reason, now, actor=actor)
    policy = lending_policy.policy_for(session, door.site_id)
    if door.door_timed_out(now, policy.door_open_timeout + DOOR_EVENT_GRACE):
        return release(session, door, ReleaseReason.DOOR_NOT_OPENED, now, actor=actor)
    return False
