"""Locker events that move pickups and returns on, run by the bridge in its ingest transaction.

The locker is the witness: a pickup's loan begins when the item sensor says the tool left a
compartment whose door was opened for that pickup, a return ends when the door closes with
the item inside its own compartment. Everything else a compartment does with a tool in it
(a tool gone without a pickup, something put where nothing was expected, a door forced) is
written to the lending history and told to staff. The registry has already applied the event
to the compartment row (and raised the fault alerts for forced, left-open and jammed doors)
before these handlers run.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking import alerts, lending
from booking.lending import DeviceRef
from booking.models import (
    LIVE_RESERVATION_STATES,
    LIVE_RETURN_STATES,
    OPEN_LOAN_STATUSES,
    AlertSeverity,
    Item,
    ItemStatus,
    LendingAction,
    LendingEvent,
    Loan,
    LoanChannel,
    ReleaseReason,
    Reservation,
    ReservationState,
    ReturnAttempt,
    ReturnState,
    ToolType,
)
from devices import commands, lending_locker
from devices.ingest import Handlers
from devices.models import Compartment, Device, DeviceCommand, DeviceKind, DoorState
from devices.protocol import Event, Reply

log = logging.getLogger(__name__)

# devices.maintenance's open commands say "maintenance:<staff>:<reason>".
MAINTENANCE_PREFIX = "maintenance:"


def register(handlers: Handlers) -> None:
    handlers.register("door_opened", door_opened)
    handlers.register("item_present_changed", item_present_changed)
    handlers.register("door_closed", door_closed)
    handlers.register("door_left_open", door_left_open)
    handlers.register("forced_open", forced_open)
    handlers.register("jammed", jammed)
    handlers.register_reply(reply)


def _ref(event: Event) -> DeviceRef:
    return DeviceRef(event.device, event.session, event.seq)


def _compartment(event: Event) -> int | None:
    n = event.fields.get("compartment")
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def _live_reservation(session: Session, device_id: str, n: int) -> Reservation | None:
    return session.scalar(
        select(Reservation)
        .where(
            Reservation.device_id == device_id,
            Reservation.compartment == n,
            Reservation.state.in_(LIVE_RESERVATION_STATES),
        )
        .with_for_update()
    )


def _live_return(session: Session, device_id: str, n: int) -> ReturnAttempt | None:
    return session.scalar(
        select(ReturnAttempt)
        .where(
            ReturnAttempt.device_id == device_id,
            ReturnAttempt.compartment == n,
            ReturnAttempt.state.in_(LIVE_RETURN_STATES),
        )
        .with_for_update()
    )


def _item_at(session: Session, device_id: str, n: int) -> Item | None:
    return session.scalar(
        select(Item)
        .where(Item.locker_device_id == device_id, Item.compartment == n)
        .with_for_update()
    )


def _open_loan(session: Session, item_id: int) -> Loan | None:
    return session.scalar(
        select(Loan).where(Loan.item_id == item_id, Loan.status.in_(OPEN_LOAN_STATUSES))
    )


def _door_is_open(session: Session, device_id: str, n: int) -> bool:
    row = session.scalar(
        select(Compartment).where(Compartment.device_id == device_id, Compartment.n == n)
    )
    return row is not None and row.door is DoorState.OPEN


def _actor(device: Device) -> str:
    return lending.device_actor(device.device_id)


# --- handlers -----------------------------------------------------------------------------------


def door_opened(session: Session, device: Device, event: Event, now: datetime) -> None:
    """A door opened after an open command: the pickup or return it was for goes on."""
    n = _compartment(event)
    command_id = event.fields.get("command_id")
    if n is None or device.kind is not DeviceKind.LOCKER or not isinstance(command_id, str):
        return
    reservation = _live_reservation(session, device.device_id, n)
    if reservation is not None and reservation.command_id == command_id:
        lending.note_door_opened(session, reservation, now, _ref(event))
        return
    attempt = _live_return(session, device.device_id, n)
    if attempt is not None and attempt.command_id == command_id:
        lending.note_return_door_opened(session, attempt, now, _ref(event))
        return
    command = session.get(DeviceCommand, command_id)
    if command is not None and command.requested_by.startswith(MAINTENANCE_PREFIX):
        item = _item_at(session, device.device_id, n)
        if item is not None:
            lending.record(session, item=item, action=LendingAction.MAINTENANCE_OPEN,
                           actor=_actor(device), now=now, command_id=command_id,
                           device=_ref(event),
                           detail={"compartment": n, "requested_by": command.requested_by})  # fmt: skip


def item_present_changed(session: Session, device: Device, event: Event, now: datetime) -> None:
    n = _compartment(event)
    present = event.fields.get("present")
    if n is None or device.kind is not DeviceKind.LOCKER or not isinstance(present, bool):
        return
    reservation = _live_reservation(session, device.device_id, n)
    attempt = _live_return(session, device.device_id, n)
    if not present:
        if reservation is not None and reservation.state is ReservationState.DOOR_OPEN:
            lending.complete_pickup(session, reservation, now, _ref(event))
            return
        if attempt is not None and attempt.state is ReturnState.DOOR_OPEN:
            attempt.item_seen = False  # put in, then taken out again before closing
            return
        _item_gone_without_pickup(session, device, n, event, now)
        return
    if attempt is not None and attempt.state is ReturnState.DOOR_OPEN:
        attempt.item_seen = True
        return
    _item_appeared(session, device, n, event, now)


def _item_gone_without_pickup(
    session: Session, device: Device, n: int, event: Event, now: datetime
) -> None:
    """The sensor says the compartment emptied, and no pickup was under way there."""
    item = _item_at(session, device.device_id, n)
    if item is None or item.status in (ItemStatus.ON_LOAN, ItemStatus.OVERDUE, ItemStatus.LOST):
        return  # nothing of ours was supposed to be inside
    last = _last_event(session, item.id)
    if last is not None and last.action is LendingAction.MAINTENANCE_OPEN:
        # Staff opened the door for maintenance and took the tool out: it is with them.
        lending.send_to_maintenance(session, item=item, actor=_actor(device), now=now,
                                    reason="taken out for maintenance")  # fmt: skip
        return
    # A live pickup not yet at door_open (its door_opened not yet heard), or none at all:
    # either way no loan can be made from this, so the item is missing until staff look.
    lending.record(
        session,
        item=item,
        action=LendingAction.ITEM_MISSING,
        actor=_actor(device),
        now=now,
        device=_ref(event),
        detail={"compartment": n},
    )
    tool_type = session.get_one(ToolType, item.tool_type_id)
    alerts.raise_alert(
        session,
        site_id=device.site_id,
        kind="lending.item_missing",
        severity=AlertSeverity.URGENT,
        summary=(
            f"{tool_type.name_en} {item.asset_tag} left {device.device_id} compartment {n} "
            "with no loan"
        ),
        params={
            "tool_zh": tool_type.name_zh,
            "tool_en": tool_type.name_en,
            "asset": item.asset_tag,
            "device": device.device_id,
            "compartment": n,
        },
        now=now,
        subject=f"item:{item.id}",
        dedupe_key=f"lending:missing:item:{item.id}",
    )


def _item_appeared(session: Session, device: Device, n: int, event: Event, now: datetime) -> None:
    """Something was put into a compartment with no return under way there."""
    item = _item_at(session, device.device_id, n)
    if item is not None:
        loan = _open_loan(session, item.id)
        if loan is not None and _put_back_during_pickup(session, loan, device, n):
            # The resident took the tool and put it straight back before closing the door.
            lending.return_to_locker_at_once(session, loan, item, now, _ref(event))
            return
        if loan is None:
            return  # its own item back in view (e.g. a sensor flicker): nothing changed
    elsewhere = session.scalar(
        select(ReturnAttempt).where(
            ReturnAttempt.device_id == device.device_id,
            ReturnAttempt.state.in_(LIVE_RETURN_STATES),
        )
    )
    where = f"{device.device_id} compartment {n}"
    params: dict[str, str | int] = {"device": device.device_id, "compartment": n}
    if elsewhere is not None:
        summary = f"A tool was put into {where}; it belongs in compartment {elsewhere.compartment}"
        params["expected"] = elsewhere.compartment
    else:
        summary = f"Something was put into {where}, where nothing was expected"
    if item is not None:
        lending.record(
            session,
            item=item,
            action=LendingAction.UNEXPECTED_ITEM,
            actor=_actor(device),
            now=now,
            device=_ref(event),
            detail={"compartment": n, "return_id": elsewhere.id if elsewhere else None},
        )
    alerts.raise_alert(
        session,
        site_id=device.site_id,
        kind="lending.wrong_compartment",
        severity=AlertSeverity.WARNING,
        summary=summary,
        params=params,
        now=now,
        subject=f"device:{device.device_id}",
        dedupe_key=f"lending:unexpected:{device.device_id}:{n}",
    )


def _last_event(session: Session, item_id: int) -> LendingEvent | None:
    return session.scalar(
        select(LendingEvent)
        .where(LendingEvent.item_id == item_id)
        .order_by(LendingEvent.at.desc(), LendingEvent.id.desc())
        .limit(1)
    )


def _put_back_during_pickup(session: Session, loan: Loan, device: Device, n: int) -> bool:
    """The pickup's own door is still open (nothing has happened to the item since the
    locker reported it taken), and the tool went back in."""
    if loan.channel is not LoanChannel.LOCKER or loan.reservation_id is None:
        return False
    reservation = session.get(Reservation, loan.reservation_id)
    last = _last_event(session, loan.item_id)
    return (
        reservation is not None
        and reservation.device_id == device.device_id
        and reservation.compartment == n
        and last is not None
        and last.action is LendingAction.LENT
        and last.reservation_id == reservation.id
        and _door_is_open(session, device.device_id, n)
    )


def door_closed(session: Session, device: Device, event: Event, now: datetime) -> None:
    n = _compartment(event)
    if n is None or device.kind is not DeviceKind.LOCKER:
        return
    reservation = _live_reservation(session, device.device_id, n)
    if reservation is not None and reservation.state is ReservationState.DOOR_OPEN:
        # The door shut and the sensor never said the tool left: no loan.
        lending.release(session, reservation, ReleaseReason.ITEM_LEFT_INSIDE, now,
                        actor=_actor(device), device=_ref(event))  # fmt: skip
        return
    _close_pickup_door(session, device, n, event, now)
    attempt = _live_return(session, device.device_id, n)
    if attempt is not None and attempt.state is ReturnState.DOOR_OPEN:
        if attempt.item_seen:
            lending.complete_return(session, attempt, now, _ref(event))
        else:
            lending.release_return(session, attempt, ReleaseReason.NOTHING_RETURNED, now,
                                   actor=_actor(device), device=_ref(event))  # fmt: skip


def _close_pickup_door(
    session: Session, device: Device, n: int, event: Event, now: datetime
) -> None:
    """Note in the history that the door of a finished pickup closed (so a tool put into
    that compartment later is no longer "changed my mind" but something unexpected)."""
    item = _item_at(session, device.device_id, n)
    if item is None:
        return
    loan = _open_loan(session, item.id)
    last = _last_event(session, item.id)
    if loan is None or last is None or last.action is not LendingAction.LENT:
        return
    if last.loan_id != loan.id or loan.channel is not LoanChannel.LOCKER:
        return
    lending.record(session, item=item, action=LendingAction.DOOR_CLOSED, actor=_actor(device),
                   now=now, loan=loan, device=_ref(event))  # fmt: skip


def _record_fault(
    session: Session, device: Device, event: Event, now: datetime, action: LendingAction,
    detail: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    n = _compartment(event)
    if n is None:
        return
    item = _item_at(session, device.device_id, n)
    if item is None:
        return
    lending.record(session, item=item, action=action, actor=_actor(device), now=now,
                   device=_ref(event), detail={"compartment": n, **(detail or {})})  # fmt: skip


def door_left_open(session: Session, device: Device, event: Event, now: datetime) -> None:
    """The registry alerts staff (one alert per door); the history notes it for the item."""
    _record_fault(session, device, event, now, LendingAction.DOOR_LEFT_OPEN,
                  {"open_seconds": event.fields.get("open_seconds")})  # fmt: skip


def forced_open(session: Session, device: Device, event: Event, now: datetime) -> None:
    """The registry raises the urgent alert; a pickup waiting on this door is given up (a
    forced door is no proof of who took the tool)."""
    n = _compartment(event)
    if n is not None:
        reservation = _live_reservation(session, device.device_id, n)
        if reservation is not None and reservation.state is ReservationState.OPENING:
            lending.release(session, reservation, ReleaseReason.CANCELLED, now,
                            actor=_actor(device), device=_ref(event))  # fmt: skip
    _record_fault(session, device, event, now, LendingAction.FORCED_OPEN)


def jammed(session: Session, device: Device, event: Event, now: datetime) -> None:
    """A jammed lock ends whatever was waiting on the compartment (the registry alerts)."""
    n = _compartment(event)
    if n is None:
        return
    reservation = _live_reservation(session, device.device_id, n)
    if reservation is not None and reservation.state is not ReservationState.DOOR_OPEN:
        lending.release(session, reservation, ReleaseReason.JAMMED, now, actor=_actor(device),
                        device=_ref(event))  # fmt: skip
    attempt = _live_return(session, device.device_id, n)
    if attempt is not None and attempt.state is ReturnState.OPENING:
        lending.release_return(session, attempt, ReleaseReason.JAMMED, now,
                               actor=_actor(device), device=_ref(event))  # fmt: skip
    _record_fault(session, device, event, now, LendingAction.JAMMED)


def reply(session: Session, device: Device, message: Reply, now: datetime) -> None:
    """After ``commands.record_reply`` (registered first): settle the pickup or return."""
    try:
        command = commands.get(session, message.command_id)
    except commands.CommandNotFound:
        return
    if command.device_id != device.device_id or not command.state.is_final:
        return
    lending_locker.settle_command(session, command, now)
