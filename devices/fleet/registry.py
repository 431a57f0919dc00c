"""What the server knows of each device: online or not, its session, compartments and faults.

Everything here is a plain function on a :class:`~sqlalchemy.orm.Session` and already
validated :mod:`devices.protocol.messages` messages; the caller (the bridge's ingest) owns the
transaction. Availability follows Sparkplug: a device's session counter grows at each
connect, so a Last Will carrying an older session than the current one is stale news.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.fleet import batch_cache, device_locks, staff_alerts
from devices.models.compartments import Compartment, DoorState, LockState
from devices.models.device import Device
from devices.models.faults import DeviceFault, FaultKind
from devices.protocol.messages import Birth, Event, Heartbeat, State, Status

DEFAULT_HEARTBEAT_S = 30
MISSED_HEARTBEATS = 3


def version(session: int, seq: int) -> int:
    """(session, seq) as one integer that orders like the pair (both are below 2**31)."""
    return (session << 32) | seq


# --- availability and sequence ------------------------------------------------------------------


def _set_online(device: Device, online: bool, now: datetime) -> None:
    if device.online != online or device.online_changed_at is None:
        went_offline = device.online and not online
        came_back = not device.online and online and device.online_changed_at is not None
        device.online = online
        device.online_changed_at = now
        # Staff hear of it in the same transaction; a bare Device (no session) is a unit test's.
        session = Session.object_session(device)
        if went_offline and session is not None:
            staff_alerts.device_went_offline(session, device, now)
        if came_back and session is not None:
            staff_alerts.device_came_back(session, device, now)


def _adopt_session(device: Device, session: int) -> None:
    device.session_counter = session
    device.last_seq = None
    device.close_gap()  # the new session's birth carries the whole state


def is_current_or_newer(device: Device, session: int) -> bool:
    return device.session_counter is None or session >= device.session_counter


def apply_status(device: Device, status: Status, now: datetime) -> None:
    """Online/offline from the retained status; a Will of an older session changes nothing."""
    if not is_current_or_newer(device, status.session):
        return
    if device.session_counter is None or status.session > device.session_counter:
        _adopt_session(device, status.session)
    _set_online(device, status.online, now)


def apply_heartbeat(device: Device, heartbeat: Heartbeat, now: datetime) -> None:
    """A heartbeat of the current session keeps the device online. One of a session the server
    has not seen begin opens a gap at its birth (seq 0): another worker may be applying the
    birth now, else the wait ends in a resync (devices.ingest.gaps)."""
    if not is_current_or_newer(device, heartbeat.session):
        return
    if device.session_counter is None or heartbeat.session > device.session_counter:
        _adopt_session(device, heartbeat.session)
        device.open_gap(heartbeat.session, 0, 0, now)
    _set_online(device, True, now)


def note_sequence(device: Device, session: int, seq: int, now: datetime) -> None:
    """Track the current session's seq; the seqs skipped open (or widen) the device's gap,
    which waits for them before a resync (devices.ingest.gaps).

    A newer session is adopted (its birth normally has seq 0; anything else means the birth
    was missed). Messages of older sessions, re-sent from a device's outbox, neither move the
    counter nor count as gaps.
    """
    # Each column read once: an ORM attribute read is a descriptor call, and this runs for
    # every event a locker sends (the commit process's CPU, bench/mqtt_ingest.py).
    counter = device.session_counter
    if counter is not None and session < counter:
        return
    if counter is None or session > counter:
        _adopt_session(device, session)
    known = device.last_seq
    last = known if known is not None else -1
    if seq > last:  # not set again when it stays: each set records history for the flush
        device.last_seq = seq
    if seq > last + 1:
        device.open_gap(session, last + 1, seq - 1, now)


def may_have_applied(device: Device, session: int, seq: int) -> bool:
    """Whether (session, seq) can be in the device's ledger already; False is certain.

    Every sequenced message is noted (:func:`note_sequence`) as it is applied, and the
    counters only move forward, so the ledger holds nothing of a session later than
    ``session_counter`` and nothing of that session above ``last_seq``. Only older messages
    (re-sent, redelivered, out of order) need looking up.
    """
    counter = device.session_counter
    if counter is None or session > counter:
        return False
    if session < counter:
        return True
    last = device.last_seq
    return last is not None and seq <= last


def touch(device: Device, now: datetime) -> None:
    seen = device.last_seen_at
    if seen is None or now > seen:
        device.last_seen_at = now


def apply_birth(session: Session, device: Device, birth: Birth, now: datetime) -> None:
    """The device (re)introduced itself: online, firmware, capabilities and full state."""
    if not is_current_or_newer(device, birth.session):
        return
    device.close_gap_before(birth.session, birth.seq)
    device.firmware = birth.firmware
    device.capabilities = dict(birth.capabilities)
    device.heartbeat_s = birth.heartbeat_s
    _set_online(device, True, now)
    apply_state_snapshot(session, device, birth.session, birth.seq, birth.state, now)


def apply_state(session: Session, device: Device, state: State, now: datetime) -> None:
    apply_state_snapshot(session, device, state.session, state.seq, state.state, now)


_ONLINE_HEARD = select(
    Device.id, Device.heartbeat_s, Device.last_seen_at, Device.online_changed_at
).where(Device.online.is_(True))


def mark_silent_devices_offline(session: Session, now: datetime) -> list[Device]:
    """For a scheduled job: devices online but unheard for more than three heartbeats go offline.

    Returns the devices marked offline.
    """
    # The three columns it judges by, not whole devices: it runs every 30 s over every online
    # device of the deployment, and loading each as an entity was most of its CPU (5.5 ms for
    # 400 lockers, the interpreter lock held meanwhile; docs/benchmarks.md, thirteenth session).
    found = [
        row.id
        for row in session.execute(_ONLINE_HEARD)
        if _silent(row.heartbeat_s, row.last_seen_at or row.online_changed_at, now)
    ]
    if not found:
        return []
    devices = session.scalars(select(Device).where(Device.id.in_(found))).all()
    # Locked in the batches' order and looked at again: a batch may have heard from one since.
    silent = [
        device
        for device in device_locks.lock_in_batch_order(session, devices)
        if device.online and _is_silent(device, now)
    ]
    for device in silent:
        _set_online(device, False, now)
    return silent


def _is_silent(device: Device, now: datetime) -> bool:
    return _silent(device.heartbeat_s, device.last_seen_at or device.online_changed_at, now)


def _silent(heartbeat_s: int | None, heard: datetime | None, now: datetime) -> bool:
    allowed = timedelta(seconds=MISSED_HEARTBEATS * (heartbeat_s or DEFAULT_HEARTBEAT_S))
    return heard is None or now - heard > allowed


# --- compartments ----------------------------------------------------------------------------


def compartments_of(session: Session, device_id: str) -> list[Compartment]:
    return list(
        session.scalars(
            select(Compartment).where(Compartment.device_id == device_id).order_by(Compartment.n)
        )
    )


@dataclass(frozen=True)
class CompartmentUpdate:
    lock: LockState | None = None
    door: DoorState | None = None
    item_present: bool | None = None


class Applied(NamedTuple):
    """Which fields of a compartment a message was the newest word on. (A tuple: one is made
    for every locker event, and a frozen dataclass costs three times as much to make.)"""

    lock: bool = False
    door: bool = False
    item_present: bool = False


def _update(
    row: Compartment, at: int, change: CompartmentUpdate, now: datetime, *,
    floor: int = -1, snapshot: bool = False,
) -> Applied:  # fmt: skip
    """Apply each field only when ``at`` is newer than what last set that field: its own
    version, or ``floor``, the device's last full state (``Device.state_version``), which
    said every field of every compartment. A ``snapshot`` (a full state at ``at``, which then
    becomes the floor) writes only the fields it changes: one that says what the row says
    already is left alone, the new floor being its version from then on."""
    lock = change.lock is not None and at > max(row.lock_version, floor)
    door = change.door is not None and at > max(row.door_version, floor)
    item = change.item_present is not None and at > max(row.item_version, floor)
    changed = False
    if lock and not (snapshot and row.lock is change.lock):
        row.lock, row.lock_version, changed = change.lock, at, True
    if door and not (snapshot and row.door is change.door):
        row.door, row.door_version, changed = change.door, at, True
    if item and not (snapshot and row.item_present is change.item_present):
        row.item_present, row.item_version, changed = change.item_present, at, True
    # Events of one batch share `now`: set once, not once per event (an ORM set records history).
    if changed and row.updated_at != now:
        row.updated_at = now
    return Applied(lock, door, item)


def apply_state_snapshot(
    session: Session,
    device: Device,
    msg_session: int,
    seq: int,
    state: Mapping[str, Any],
    now: datetime,
) -> None:
    """A locker's full state: every compartment field it reports, unless something newer set it.

    A state lists every compartment (docs/protocol.md §7) and most say again what the rows
    say of all but one: the device's ``state_version`` records that this state spoke of every
    field, so only the fields it changes are written. That was eight row updates a state, and
    a command's answer waits for the locker's state before it (docs/benchmarks.md). A state
    that does not list every compartment the device has sets each field's version as before.
    """
    rows: list[Mapping[str, Any]] = list(state.get("compartments") or ())
    at = version(msg_session, seq)
    batch = batch_cache.cache(session)
    known = batch.compartments(device.device_id).keys()
    whole = known <= {int(item["n"]) for item in rows}
    floor = device.state_version
    for item in rows:
        row = batch.compartment(device.device_id, int(item["n"]), now)
        lock = LockState(item["lock"])
        applied = _update(
            row,
            at,
            CompartmentUpdate(lock, DoorState(item["door"]), bool(item["item_present"])),
            now,
            floor=floor,
            snapshot=whole,
        )
        if applied.lock:
            if lock is not LockState.JAMMED:
                close_faults(session, device.device_id, row.n, [FaultKind.JAMMED], now)
        if applied.door and row.door is DoorState.CLOSED:
            close_faults(
                session,
                device.device_id,
                row.n,
                [FaultKind.DOOR_LEFT_OPEN, FaultKind.FORCED_OPEN],
                now,
            )
    if whole and at > floor:
        device.state_version = at


# --- events -------------------------------------------------------------------------------------

_FAULT_OF_EVENT: Mapping[str, FaultKind] = {
    "jammed": FaultKind.JAMMED,
    "door_left_open": FaultKind.DOOR_LEFT_OPEN,
    "forced_open": FaultKind.FORCED_OPEN,
}

_CHANGE_OF_EVENT: Mapping[str, CompartmentUpdate] = {
    "door_opened": CompartmentUpdate(door=DoorState.OPEN),
    "door_closed": CompartmentUpdate(door=DoorState.CLOSED),
    "forced_open": CompartmentUpdate(door=DoorState.OPEN),
    "door_left_open": CompartmentUpdate(door=DoorState.OPEN),
    "jammed": CompartmentUpdate(lock=LockState.JAMMED),
}


_ITEM_PRESENT: Mapping[bool, CompartmentUpdate] = {
    present: CompartmentUpdate(item_present=present) for present in (True, False)
}


def apply_locker_event(session: Session, device: Device, event: Event, now: datetime) -> None:
    """What a locker event says about its compartment, and the faults it opens or closes."""
    compartment = event.fields.get("compartment")
    if not isinstance(compartment, int):
        return
    at = version(event.session, event.seq)
    row = batch_cache.cache(session).compartment(device.device_id, compartment, now)
    if event.type == "item_present_changed":
        change: CompartmentUpdate | None = _ITEM_PRESENT[bool(event.fields["present"])]
    else:
        change = _CHANGE_OF_EVENT.get(event.type)
    applied = Applied()
    if change is not None:
        applied = _update(row, at, change, now, floor=device.state_version)
    fault = _FAULT_OF_EVENT.get(event.type)
    if fault is not None:
        open_fault(session, device.device_id, compartment, fault, now)
    elif event.type == "door_closed" and applied.door:
        close_faults(
            session,
            device.device_id,
            compartment,
            [FaultKind.DOOR_LEFT_OPEN, FaultKind.FORCED_OPEN],
            now,
        )


# --- faults -------------------------------------------------------------------------------------


def open_faults(session: Session, device_id: str | None = None) -> list[DeviceFault]:
    query = select(DeviceFault).where(DeviceFault.closed_at.is_(None))
    if device_id is not None:
        query = query.where(DeviceFault.device_id == device_id)
    return list(session.scalars(query.order_by(DeviceFault.opened_at, DeviceFault.id)))


def open_fault(
    session: Session, device_id: str, compartment: int | None, kind: FaultKind, now: datetime
) -> DeviceFault:
    """Record a fault unless the same one is already open (a repeated report is one fault)."""
    faults = batch_cache.cache(session).open_faults(device_id)
    for fault in faults:
        if fault.compartment == compartment and fault.kind is kind:
            return fault
    fault = DeviceFault(
        device_id=device_id, compartment=compartment, kind=kind, opened_at=now, closed_at=None
    )
    session.add(fault)
    faults.append(fault)
    device = session.scalar(select(Device).where(Device.device_id == device_id))
    if device is not None:
        staff_alerts.fault_opened(session, device, compartment, kind, now)
    return fault


def has_open_fault(session: Session, device_id: str, kind: FaultKind) -> bool:
    """Whether the device has an open device-wide fault of ``kind``."""
    return any(
        f.kind is kind and f.compartment is None
        for f in batch_cache.cache(session).open_faults(device_id)
    )


def close_device_fault(session: Session, device_id: str, kind: FaultKind, now: datetime) -> bool:
    """Close the device-wide fault of ``kind`` if one is open; whether one was."""
    faults = batch_cache.cache(session).open_faults(device_id)
    closed = False
    for fault in list(faults):
        if fault.compartment is None and fault.kind is kind:
            fault.closed_at = now
            faults.remove(fault)
            closed = True
    if closed:
        staff_alerts.device_fault_cleared(session, device_id, kind, now)
    return closed


def close_faults(
    session: Session, device_id: str, compartment: int, kinds: Iterable[FaultKind], now: datetime
) -> None:
    faults = batch_cache.cache(session).open_faults(device_id)
    closing = set(kinds)
    for fault in list(faults):
        if fault.compartment == compartment and fault.kind in closing:
            fault.closed_at = now
            faults.remove(fault)
