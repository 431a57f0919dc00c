"""What the console's device board shows: each device of a site, its compartments and faults."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from devices.models.compartments import Compartment, DoorState, LockState
from devices.models.dead_letters import DeadLetter
from devices.models.device import Device, DeviceKind
from devices.models.faults import DeviceFault, FaultKind


@dataclass(frozen=True)
class ItemInPlace:
    id: int
    asset_tag: str
    name_zh: str
    name_en: str
    status: str


@dataclass(frozen=True)
class CompartmentRow:
    n: int
    lock: LockState | None
    door: DoorState | None
    item_present: bool | None
    item: ItemInPlace | None
    faults: tuple[FaultKind, ...]


@dataclass(frozen=True)
class FaultRow:
    kind: FaultKind
    compartment: int | None
    opened_at: datetime


@dataclass(frozen=True)
class RefusedMessages:
    """That the device's messages were refused, why, how many and when last: never what
    they said (a refused payload may hold health data)."""

    reason: str
    count: int
    last_at: datetime
    # How many times they came in all (``count`` and every copy sent again): a device re-sends
    # what it was not acknowledged for.
    times: int


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    name: str
    kind: DeviceKind
    online: bool
    online_changed_at: datetime | None
    last_seen_at: datetime | None
    firmware: str | None
    faults: tuple[FaultRow, ...]
    compartments: tuple[CompartmentRow, ...] = field(default=())
    # The connect counter the server knows (what an admin's reset forgets).
    session_counter: int | None = None
    refused: tuple[RefusedMessages, ...] = field(default=())


def board(session: Session, site_id: int) -> list[DeviceRow]:
    """Every device of the site by id, with open faults and, for lockers, each compartment
    (those the device reported and those an item is assigned to) and the item kept there."""
    devices = list(
        session.scalars(select(Device).where(Device.site_id == site_id).order_by(Device.device_id))
    )
    ids = [d.device_id for d in devices]
    if not ids:
        return []
    compartments: dict[str, dict[int, Compartment]] = defaultdict(dict)
    for row in session.scalars(select(Compartment).where(Compartment.device_id.in_(ids))):
        compartments[row.device_id][row.n] = row
    faults: dict[str, list[DeviceFault]] = defaultdict(list)
    for fault in session.scalars(
        select(DeviceFault)
        .where(DeviceFault.device_id.in_(ids), DeviceFault.closed_at.is_(None))
        .order_by(DeviceFault.opened_at, DeviceFault.id)
    ):
        faults[fault.device_id].append(fault)
    refused: dict[str, list[RefusedMessages]] = defaultdict(list)
    for device_id, reason, count, repeats, last_at in session.execute(
        select(
            DeadLetter.device_id,
            DeadLetter.reason,
            func.count(),
            func.sum(DeadLetter.repeats),
            func.max(DeadLetter.received_at),
        )
        .where(DeadLetter.device_id.in_(ids))
        .group_by(DeadLetter.device_id, DeadLetter.reason)
        .order_by(DeadLetter.device_id, DeadLetter.reason)
    ):
        if device_id is not None:
            refused[device_id].append(
                RefusedMessages(reason, int(count), last_at, int(count) + int(repeats or 0))
            )
    items: dict[tuple[str, int], ItemInPlace] = {}
    for item, tool in session.execute(
        select(Item, ToolType)
        .join(ToolType, ToolType.id == Item.tool_type_id)
        .where(Item.site_id == site_id, Item.locker_device_id.in_(ids))
    ):
        if item.locker_device_id is not None and item.compartment is not None:
            items[(item.locker_device_id, item.compartment)] = ItemInPlace(
                item.id, item.asset_tag, tool.name_zh, tool.name_en, item.status.value
            )
    rows = []
    for device in devices:
        device_faults = faults[device.device_id]
        numbers = set(compartments[device.device_id]) | {
            n for (d, n) in items if d == device.device_id
        }
        compartment_rows = []
        for n in sorted(numbers):
            reported = compartments[device.device_id].get(n)
            compartment_rows.append(
                CompartmentRow(
                    n=n,
                    lock=reported.lock if reported else None,
                    door=reported.door if reported else None,
                    item_present=reported.item_present if reported else None,
                    item=items.get((device.device_id, n)),
                    faults=tuple(f.kind for f in device_faults if f.compartment == n),
                )
            )
        rows.append(
            DeviceRow(
                device_id=device.device_id,
                name=device.name,
                kind=device.kind,
                online=device.online,
                online_changed_at=device.online_changed_at,
                last_seen_at=device.last_seen_at,
                firmware=device.firmware,
                faults=tuple(FaultRow(f.kind, f.compartment, f.opened_at) for f in device_faults),
                compartments=tuple(compartment_rows),
                session_counter=device.session_counter,
                refused=tuple(refused[device.device_id]),
            )
        )
    return rows
