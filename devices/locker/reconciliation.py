"""A locker's full state (birth, `state` on a status request or a resync, or after a change)
compared with the lending records: the device side of :mod:`booking.lending.reconciliation`.

The registry has applied the full state to the compartment rows before this runs, field by
field and never with older news over newer, so the rows are what the locker last said of
each compartment; those are judged, not the message itself (a retained state replayed late
then changes nothing). A single event can show that a mismatch is over (a late "item
removed" that made a loan after all), never that one began: only full states raise them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.lending import door_lookup, door_session
from booking.lending import reconciliation as lending_reconciliation
from booking.lending.history import DeviceRef
from booking.lending.models.door_sessions import DoorSession, DoorSessionState
from booking.lending.reconciliation import CompartmentReport
from booking.people.models.staff import StaffAccount
from devices.commands import operations as commands
from devices.fleet import batch_cache
from devices.ingest.reactions import Handlers
from devices.locker import quiet_lockers
from devices.models.compartments import Compartment, DoorState, LockState
from devices.models.device import Device, DeviceKind
from devices.protocol.messages import Birth, Event, State

# A door shut with its bolt still: locked, or jammed shut (a jam is a fault, not a cycle).
_BOLT_AT_REST = (LockState.LOCKED, LockState.JAMMED)
# Events after which the lending handlers may have changed what the records say of a
# compartment (a loan made late, a return completed).
_SETTLING_EVENTS = ("item_present_changed", "door_closed")


def register(handlers: Handlers) -> None:
    """Register after :mod:`devices.locker.events`, so its changes are seen here."""
    handlers.register_state(full_state)
    for event_type in _SETTLING_EVENTS:
        handlers.register(event_type, settle_after_event)


def report_of(row: Compartment) -> CompartmentReport:
    return CompartmentReport(
        n=row.n,
        item_present=row.item_present,
        at_rest=row.door is DoorState.CLOSED and row.lock in _BOLT_AT_REST,
    )


def _reports(rows: dict[int, Compartment]) -> list[CompartmentReport]:
    return [report_of(row) for row in rows.values()]


def full_state(session: Session, device: Device, message: Birth | State, now: datetime) -> None:
    """Compare every compartment of the locker with the records.

    Not again for a full state that follows the one just reconciled in this transaction
    (the next seq of the same session) and reports the same: a locker that connects sends its
    birth and then its state, which nearly always agree, and the two reconciliations were a
    third of a connect's cost (docs/scaling.md item 10). Nothing of the device came between
    them, and no other device's message changes this locker's items or mismatches, so the
    second would find what the first left."""
    if device.kind is not DeviceKind.LOCKER:
        return
    cache = batch_cache.cache(session)
    rows = cache.compartments(device.device_id)
    if isinstance(message, Birth):
        _doors_shut_unheard(session, device, rows, message, now)
    reports = _reports(rows)
    last = cache.reconciled.get(device.device_id)
    cache.reconciled[device.device_id] = (message.session, message.seq, reports)
    if last == (message.session, message.seq - 1, reports):
        return
    quiet_lockers.busy(session, device.device_id)  # it may raise mismatches
    lending_reconciliation.reconcile(
        session,
        site_id=device.site_id,
        device_id=device.device_id,
        reports=reports,
        now=now,
        source=DeviceRef(device.device_id, message.session, message.seq),
    )


def _doors_shut_unheard(
    session: Session, device: Device, rows: dict[int, Compartment], message: Birth,
    now: datetime,
) -> None:  # fmt: skip
    """End the door cycles that a locker's birth shows over: the door shut and its bolt at
    rest while the session still waits for its ``door_closed``.

    The locker lost its power (or restarted) with the door open, and someone shut it
    meanwhile: no ``door_closed`` will ever come, and the session would hold the compartment
    for good, refusing every return to it. The birth is the locker's own word on the door and
    on the item sensor, as its events would have been; so what it says of the item is taken
    as an ``item_present_changed`` (a pickup's tool gone makes its loan, as the event would),
    and then the cycle ends as ``door_closed`` ends it. Only a birth: a door goes unheard only
    across a restart, which always begins with one (a locker that merely lost its link sends
    its kept events again), and a later ``state`` would pay the lookup for nothing."""
    ref = DeviceRef(device.device_id, message.session, message.seq)
    for n in sorted(_doors_open(session, device.device_id)):
        row = rows.get(n)
        if row is None or not report_of(row).at_rest:
            continue
        door = door_lookup.live_at(session, device.device_id, n)
        if door is None or door.state is not DoorSessionState.DOOR_OPEN:
            continue
        quiet_lockers.busy(session, device.device_id)
        if row.item_present is not None and row.item_present != door.item_inside:
            door_session.item_sensed(session, door, row.item_present, now, ref)
        door_session.door_closed(session, door, now, ref)


def _doors_open(session: Session, device_id: str) -> set[int]:
    """The compartments whose session has its door open: from the transaction's read of the
    locker while it holds (nearly always none, and no query), else in one query."""
    lockers = quiet_lockers.of(session, device_id)
    if lockers.read(device_id):
        return {d.compartment for d in lockers.at_the_door.get(device_id, ()) if d.door_open}
    return set(session.scalars(_DOORS_OPEN, {"device_id": device_id}))


_DOORS_OPEN = select(DoorSession.compartment).where(
    DoorSession.device_id == bindparam("device_id"),
    DoorSession.state == DoorSessionState.DOOR_OPEN,
)


def settle_after_event(session: Session, device: Device, event: Event, now: datetime) -> None:
    """End the mismatches of the event's compartment that the lending handlers just settled."""
    n = event.fields.get("compartment")
    if device.kind is not DeviceKind.LOCKER or not isinstance(n, int) or isinstance(n, bool):
        return
    row = batch_cache.cache(session).compartments(device.device_id).get(n)
    if row is None or quiet_lockers.of(session, device.device_id).nothing_to_settle(
        device.device_id
    ):
        return
    lending_reconciliation.reconcile(
        session,
        site_id=device.site_id,
        device_id=device.device_id,
        reports=[report_of(row)],
        now=now,
        source=DeviceRef(device.device_id, event.session, event.seq),
        raise_new=False,
    )


STATUS_TTL = timedelta(seconds=30)


def ask_for_full_states(session: Session, staff: StaffAccount, now: datetime) -> list[str]:
    """Ask every online locker of the staff member's site for its full state (`status`), so
    the records are checked against it now rather than at its next change; the device ids
    asked. An offline locker is not asked: it sends its full state when it comes back."""
    asked = []
    lockers = session.scalars(
        select(Device)
        .where(
            Device.site_id == staff.working_site_id,
            Device.kind == DeviceKind.LOCKER,
            Device.online.is_(True),
        )
        .order_by(Device.device_id)
    )
    for device in lockers:
        try:
            commands.issue(session, device.device_id, "status", {}, now, ttl=STATUS_TTL,
                           requested_by=f"{audit.staff_actor(staff)}: locker check")  # fmt: skip
        except commands.DeviceOffline:
            continue
        asked.append(device.device_id)
    audit.record_staff(session, staff, action="lending.locker_check_requested", now=now,
                       detail={"lockers": asked})  # fmt: skip
    return asked
