"""What the lending handlers of one ingest transaction need to know of its lockers, read once.

Many locker events come where lending has nothing going on: no door open for a pickup or a
return, no tool kept in the compartment, no mismatch to end (something left in an empty
compartment, a sensor's flicker, every event of bench/district.py's fleet). Finding that out
was three statements an event (the session at the door, the item in the compartment, anything to
settle), and the first of them flushed the registry's update of the compartment before it:
five round trips to PostgreSQL for an event that changes no lending record
(bench/harness/event_cpu.py, docs/benchmarks.md). Here one statement reads it for every
locker of the transaction, on first use, after the transaction has locked them
(devices.ingest.apply), and the handlers ask the database only where it says something is
going on.

Why what it read stays true for the transaction:
- A door is open for a session (``door_open``) only through a ``door_opened`` event, which
  only the ingest applies, under the locker's lock: no other transaction opens one meanwhile.
- Any handler that may change a locker's lending records marks it ``busy``; from then on its
  handlers ask the database, as before.
- A tool assigned to a compartment, or a pickup reaching ``opening``, by staff or a kiosk
  while the transaction runs: the event is handled as if it came just before (as a read at
  the event could have seen anyway); the next transaction reads afresh.
- Anything to settle: an event only ever ends a mismatch, which the next full state ends too.

A locker's open alerts of something put into an empty compartment are read once a
transaction too, when the first such report comes (:func:`unexpected_alert_open`): a sensor
that keeps reporting the same thing (a flickering one, or bench/district.py's fleet) cost a
read of the alert, and the flush of the registry's updates before it, for every report (a
third of a district worker's time under the interpreter lock in one profile; the district
did not move for this, as most of its lockers report once a transaction: docs/benchmarks.md).
An alert staff resolve while the transaction runs is raised again by the cause's next report,
as with a read at the event just before they resolved it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, literal, null, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import BindParameter, CompoundSelect

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.lending.models.door_sessions import (
    AT_THE_DOOR_STATES,
    DoorPurpose,
    DoorSession,
    DoorSessionState,
)
from booking.lending.models.mismatches import LendingMismatch
from booking.lending.models.tools import Item, ItemStatus
from devices.fleet import batch_cache
from devices.models.device import Device

_KEY = "quiet_lockers"
_DEVICES: BindParameter[list[str]] = bindparam("device_ids", expanding=True)

# One statement: (what, device, compartment, door session id, whether its door is open,
# whether a pickup).
_READ: CompoundSelect[Any] = union_all(
    select(
        literal("door"),
        DoorSession.device_id,
        DoorSession.compartment,
        DoorSession.id,
        DoorSession.state == DoorSessionState.DOOR_OPEN,
        DoorSession.purpose == DoorPurpose.PICKUP,
    ).where(DoorSession.device_id.in_(_DEVICES), DoorSession.state.in_(AT_THE_DOOR_STATES)),
    select(literal("item"), Item.locker_device_id, Item.compartment, null(), null(), null()).where(
        Item.locker_device_id.in_(_DEVICES), Item.compartment.is_not(None)
    ),
    select(literal("settle"), LendingMismatch.device_id, null(), null(), null(), null()).where(
        LendingMismatch.device_id.in_(_DEVICES), LendingMismatch.cleared_at.is_(None)
    ),
    select(literal("settle"), Item.locker_device_id, null(), null(), null(), null()).where(
        Item.locker_device_id.in_(_DEVICES), Item.status == ItemStatus.MISSING
    ),
)


# A locker's open alerts among ``keys``, found by the alerts' index (site, dedupe key).
_OPEN_ALERTS = select(StaffAlert.dedupe_key).where(
    StaffAlert.site_id == bindparam("site_id"),
    StaffAlert.dedupe_key.in_(bindparam("keys", expanding=True)),
    StaffAlert.status != AlertStatus.RESOLVED,
)


def unexpected_item_key(device_id: str, n: int) -> str:
    """The alert of something put into compartment ``n`` where nothing was expected."""
    return f"lending:unexpected:{device_id}:{n}"


@dataclass(frozen=True)
class AtTheDoor:
    """A session unlocking or with its door open at a compartment."""

    id: int
    compartment: int
    door_open: bool
    is_pickup: bool


@dataclass
class QuietLockers:
    """The transaction's lockers as read at its start; ``known`` are those read, ``busy``
    those whose lending records a handler of the transaction may have changed."""

    known: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    at_the_door: dict[str, list[AtTheDoor]] = field(default_factory=dict)
    with_items: set[tuple[str, int]] = field(default_factory=set)
    to_settle: set[str] = field(default_factory=set)
    # The lockers whose unexpected-item alerts were read, and those open.
    alerts_read: set[str] = field(default_factory=set)
    open_alerts: set[str] = field(default_factory=set)

    def read(self, device_id: str) -> bool:
        """Whether what was read of the locker still holds (else ask the database)."""
        return device_id in self.known and device_id not in self.busy

    def no_door_open(self, device_id: str, n: int) -> bool:
        return self.read(device_id) and not any(
            d.door_open and d.compartment == n for d in self.at_the_door.get(device_id, ())
        )

    def no_item(self, device_id: str, n: int) -> bool:
        return self.read(device_id) and (device_id, n) not in self.with_items

    def nothing_to_settle(self, device_id: str) -> bool:
        return self.read(device_id) and device_id not in self.to_settle

    def at_another_door(self, device_id: str, n: int) -> AtTheDoor | None:
        """The first session at the door of another compartment (``read`` lockers only)."""
        return next((d for d in self.at_the_door.get(device_id, ()) if d.compartment != n), None)


def of(session: Session, device_id: str) -> QuietLockers:
    """The transaction's reads, made on first use for every locker whose compartments the
    transaction read (and for ``device_id``)."""
    cache = batch_cache.cache(session)
    found = _kept(cache)
    if device_id not in found.known and device_id not in found.busy:
        _read(session, found, {*cache.devices_with_compartments(), device_id} - found.known)
    return found


def unexpected_alert_open(session: Session, device: Device, n: int) -> bool:
    """Whether staff have an open alert of something put into compartment ``n`` where nothing
    was expected. Read once a transaction for all the locker's compartments, and without
    flushing the registry's updates first: in an ingest only ``raise_alert`` writes these
    alerts, it flushes each it opens, and :func:`alert_raised` notes it here."""
    cache = batch_cache.cache(session)
    found = _kept(cache)
    device_id = device.device_id
    if device_id not in found.alerts_read:
        compartments = cache.compartments(device_id)
        keys = sorted({unexpected_item_key(device_id, m) for m in (*compartments, n)})
        with session.no_autoflush:
            found.open_alerts.update(
                session.scalars(_OPEN_ALERTS, {"site_id": device.site_id, "keys": keys})
            )
        found.alerts_read.add(device_id)
    return unexpected_item_key(device_id, n) in found.open_alerts


def alert_raised(session: Session, device_id: str, n: int) -> None:
    """The unexpected-item alert of compartment ``n`` is open now."""
    _kept(batch_cache.cache(session)).open_alerts.add(unexpected_item_key(device_id, n))


def busy(session: Session, device_id: str) -> None:
    """A handler may change the locker's lending records: ask the database from now on."""
    _kept(batch_cache.cache(session)).busy.add(device_id)


def _kept(cache: batch_cache.BatchCache) -> QuietLockers:
    # In the registry's cache, so that it is forgotten with it after a rollback.
    found = cache.kept.get(_KEY)
    if not isinstance(found, QuietLockers):
        found = QuietLockers()
        cache.kept[_KEY] = found
    return found


def _read(session: Session, into: QuietLockers, device_ids: set[str]) -> None:
    ids = sorted(device_ids)
    for what, device_id, n, door_id, door_open, is_pickup in session.execute(
        _READ, {"device_ids": ids}
    ):
        if what == "door":
            into.at_the_door.setdefault(device_id, []).append(
                AtTheDoor(door_id, n, bool(door_open), bool(is_pickup))
            )
        elif what == "item":
            into.with_items.add((device_id, n))
        else:
            into.to_settle.add(device_id)
    for doors in into.at_the_door.values():
        doors.sort(key=lambda d: d.id)
    into.known.update(ids)
