"""Locker events that move door sessions (pickups and returns) on, run by the bridge in its
ingest transaction.

The locker is the witness: a pickup's loan begins when the item sensor says the tool left a
compartment whose door was opened for that pickup, a return ends when the door closes with
the item inside its own compartment (:mod:`booking.lending.door_session` decides; these handlers find
the session an event is about). Everything else a compartment does with a tool in it (a tool
gone without a pickup, something put where nothing was expected, a door forced) is written to
the lending history and told to staff. The registry has already applied the event to the
compartment row (and raised the fault alerts for forced, left-open and jammed doors) before
these handlers run.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity
from booking.lending import door_lookup, door_session
from booking.lending import history as lending_history
from booking.lending import operations as lending
from booking.lending.history import DeviceRef
from booking.lending.models.door_sessions import (
    AT_THE_DOOR_STATES,
    DoorSession,
    DoorSessionState,
    ReleaseReason,
)
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan
from booking.lending.models.tools import Item, ItemStatus
from devices.commands import operations as commands
from devices.ingest.reactions import Handlers
from devices.locker import opening as lending_locker
from devices.locker import quiet_lockers
from devices.models.commands import DeviceCommand
from devices.models.device import Device, DeviceKind
from devices.protocol.messages import Event, Reply

log = logging.getLogger(__name__)

# devices.locker.maintenance's open commands say "maintenance:<staff>:<reason>".
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


def _locker_compartment(device: Device, event: Event) -> int | None:
    return _compartment(event) if device.kind is DeviceKind.LOCKER else None


def _at_the_door(session: Session, device_id: str, n: int) -> DoorSession | None:
    """The session whose door is open at the compartment, if any."""
    if quiet_lockers.of(session, device_id).no_door_open(device_id, n):
        return None
    quiet_lockers.busy(session, device_id)
    door = door_lookup.live_at(session, device_id, n)
    return door if door is not None and door.state is DoorSessionState.DOOR_OPEN else None


# The statements every locker event may run, built once: building one per call (SQLAlchemy's
# operator overloading and coercions) cost more than running it (docs/benchmarks.md).
_ITEM_AT = (
    select(Item)
    .where(Item.locker_device_id == bindparam("device_id"), Item.compartment == bindparam("n"))
    .with_for_update()
)
_OPEN_LOAN = select(Loan).where(
    Loan.item_id == bindparam("item_id"), Loan.status.in_(OPEN_LOAN_STATUSES)
)
_AT_ANOTHER_DOOR = select(DoorSession).where(
    DoorSession.device_id == bindparam("device_id"),
    DoorSession.state.in_(AT_THE_DOOR_STATES),
    DoorSession.compartment != bindparam("n"),
)


def _item_at(session: Session, device_id: str, n: int) -> Item | None:
    return session.scalar(_ITEM_AT, {"device_id": device_id, "n": n})


def _open_loan(session: Session, item_id: int) -> Loan | None:
    return session.scalar(_OPEN_LOAN, {"item_id": item_id})


def _actor(device: Device) -> str:
    return lending_history.device_actor(device.device_id)


# --- handlers -----------------------------------------------------------------------------------


def door_opened(session: Session, device: Device, event: Event, now: datetime) -> None:
    """A door opened after an open command: the session it was for goes on (or, released
    meanwhile, keeps the news for a late "item removed")."""
    n = _locker_compartment(device, event)
    command_id = event.fields.get("command_id")
    if n is None or not isinstance(command_id, str):
        return
    quiet_lockers.busy(session, device.device_id)
    door = door_lookup.of_command(session, command_id)
    if door is not None and (door.device_id, door.compartment) == (device.device_id, n):
        door_session.door_opened(session, door, now, _ref(event))
        return
    command = session.get(DeviceCommand, command_id)
    if command is not None and command.requested_by.startswith(MAINTENANCE_PREFIX):
        item = _item_at(session, device.device_id, n)
        if item is not None:
            lending_history.record(session, item=item, action=LendingAction.MAINTENANCE_OPEN,
                           actor=_actor(device), now=now, command_id=command_id,
                           device=_ref(event),
                           detail={"compartment": n, "requested_by": command.requested_by})  # fmt: skip


def item_present_changed(session: Session, device: Device, event: Event, now: datetime) -> None:
    n = _locker_compartment(device, event)
    present = event.fields.get("present")
    if n is None or not isinstance(present, bool):
        return
    lockers = quiet_lockers.of(session, device.device_id)
    if lockers.no_door_open(device.device_id, n) and lockers.no_item(device.device_id, n):
        # Nothing of ours is kept there and no door is open for it: at most something
        # turned up where nothing was expected, which changes no lending record.
        if present and not quiet_lockers.unexpected_alert_open(session, device, n):
            elsewhere = lockers.at_another_door(device.device_id, n)
            _tell_unexpected(session, device, n, None, elsewhere, event, now)
            quiet_lockers.alert_raised(session, device.device_id, n)
        return
    quiet_lockers.busy(session, device.device_id)
    door = _at_the_door(session, device.device_id, n)
    if door is not None:
        door_session.item_sensed(session, door, present, now, _ref(event))
        return
    if present:
        _item_appeared(session, device, n, event, now)
        return
    item = _item_at(session, device.device_id, n)
    if item is None or item.status in (ItemStatus.ON_LOAN, ItemStatus.OVERDUE, ItemStatus.LOST):
        return  # nothing of ours was supposed to be inside
    late = door_session.late_pickup_at(session, device.device_id, n, item.id)
    if late is not None:
        door_session.confirm_pickup_late(session, late, now, _ref(event))
        return
    _item_gone_without_pickup(session, device, item, n, event, now)


def _item_gone_without_pickup(
    session: Session, device: Device, item: Item, n: int, event: Event, now: datetime
) -> None:
    """The sensor says the compartment emptied, and no pickup's door was open there."""
    last = _last_event(session, item.id)
    if last is not None and last.action is LendingAction.MAINTENANCE_OPEN:
        # Staff opened the door for maintenance and took the tool out: it is with them.
        lending.send_to_maintenance(session, item=item, actor=_actor(device), now=now,
                                    reason="taken out for maintenance")  # fmt: skip
        return
    # A live pickup not yet at door_open (its door_opened not yet heard), or none at all:
    # either way no loan can be made from this, so the item is missing until staff look.
    lending_history.record(
        session,
        item=item,
        action=LendingAction.ITEM_MISSING,
        actor=_actor(device),
        now=now,
        device=_ref(event),
        detail={"compartment": n},
    )
    door_session.alert_about_compartment(
        session, item, device_id=device.device_id, compartment=n, now=now,
        kind="lending.item_missing", severity=AlertSeverity.URGENT,
        summary="{tool} {asset} left {device} compartment {compartment} with no loan",
        subject=f"item:{item.id}", dedupe_key=f"lending:missing:item:{item.id}",
    )  # fmt: skip


def _item_appeared(session: Session, device: Device, n: int, event: Event, now: datetime) -> None:
    """Something was put into a compartment whose door no session of ours has open."""
    item = _item_at(session, device.device_id, n)
    if item is not None and _open_loan(session, item.id) is None:
        return  # its own item back in view (e.g. a sensor flicker): nothing changed
    elsewhere = session.scalar(_AT_ANOTHER_DOOR, {"device_id": device.device_id, "n": n})
    _tell_unexpected(session, device, n, item, elsewhere, event, now)


def _tell_unexpected(
    session: Session,
    device: Device,
    n: int,
    item: Item | None,
    elsewhere: DoorSession | quiet_lockers.AtTheDoor | None,
    event: Event,
    now: datetime,
) -> None:
    """Staff are told (and the item's history says, if it is ours) that something was put
    into compartment ``n``; ``elsewhere`` is a session at the door of another compartment."""
    where = f"{device.device_id} compartment {n}"
    params: dict[str, str | int] = {"device": device.device_id, "compartment": n}
    if elsewhere is not None and not elsewhere.is_pickup:
        summary = f"A tool was put into {where}; it belongs in compartment {elsewhere.compartment}"
        params["expected"] = elsewhere.compartment
    else:
        summary = f"Something was put into {where}, where nothing was expected"
    if item is not None:
        lending_history.record(
            session,
            item=item,
            action=LendingAction.UNEXPECTED_ITEM,
            actor=_actor(device),
            now=now,
            device=_ref(event),
            detail={
                "compartment": n,
                "door_session_id": elsewhere.id if elsewhere is not None else None,
            },
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
        dedupe_key=quiet_lockers.unexpected_item_key(device.device_id, n),
    )


def _last_event(session: Session, item_id: int) -> LendingEvent | None:
    return session.scalar(
        select(LendingEvent)
        .where(LendingEvent.item_id == item_id)
        .order_by(LendingEvent.at.desc(), LendingEvent.id.desc())
        .limit(1)
    )


def door_closed(session: Session, device: Device, event: Event, now: datetime) -> None:
    """The end of a door cycle: the session at that door completes or is released."""
    n = _locker_compartment(device, event)
    if n is None:
        return
    door = _at_the_door(session, device.device_id, n)
    if door is not None:
        door_session.door_closed(session, door, now, _ref(event))


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
    lending_history.record(session, item=item, action=action, actor=_actor(device), now=now,
                   device=_ref(event), detail={"compartment": n, **(detail or {})})  # fmt: skip


def door_left_open(session: Session, device: Device, event: Event, now: datetime) -> None:
    """The registry alerts staff (one alert per door); the history notes it for the item."""
    quiet_lockers.busy(session, device.device_id)
    _record_fault(session, device, event, now, LendingAction.DOOR_LEFT_OPEN,
                  {"open_seconds": event.fields.get("open_seconds")})  # fmt: skip


def forced_open(session: Session, device: Device, event: Event, now: datetime) -> None:
    """The registry raises the urgent alert; a session waiting on this door to be opened is
    given up (a forced door is no proof of who took the tool or put it back)."""
    quiet_lockers.busy(session, device.device_id)
    n = _compartment(event)
    if n is not None:
        door = door_lookup.live_at(session, device.device_id, n)
        if door is not None and door.state is DoorSessionState.OPENING:
            door_session.release(session, door, ReleaseReason.CANCELLED, now,
                                 actor=_actor(device), device=_ref(event))  # fmt: skip
    _record_fault(session, device, event, now, LendingAction.FORCED_OPEN)


def jammed(session: Session, device: Device, event: Event, now: datetime) -> None:
    """A jammed lock ends a session that was waiting for the compartment to open (the
    registry alerts); one whose door is already open carries on."""
    quiet_lockers.busy(session, device.device_id)
    n = _compartment(event)
    if n is None:
        return
    door = door_lookup.live_at(session, device.device_id, n)
    if door is not None and door.state is not DoorSessionState.DOOR_OPEN:
        door_session.release(session, door, ReleaseReason.JAMMED, now, actor=_actor(device),
                             device=_ref(event))  # fmt: skip
    _record_fault(session, device, event, now, LendingAction.JAMMED)


def reply(session: Session, device: Device, message: Reply, now: datetime) -> None:
    """After ``commands.record_reply`` (registered first): settle the door session."""
    quiet_lockers.busy(session, device.device_id)
    try:
        command = commands.get(session, message.command_id)
    except commands.CommandNotFound:
        return
    if command.device_id != device.device_id or not command.state.is_final:
        return
    lending_locker.settle_command(session, command, now)
