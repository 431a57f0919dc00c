"""The lending history: one :class:`~booking.lending.models.events.LendingEvent` per change of an
item or loan, written in the change's own transaction, and who made it (resident, staff or
device).

Below both the lending rules (:mod:`booking.lending.operations`) and the door session
(:mod:`booking.lending.door_session`), which each record what they change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.lending.models.door_sessions import DoorSession
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan
from booking.lending.models.tools import Item
from booking.lending.records import MAX_REASON_LENGTH
from booking.people.models.staff import StaffAccount

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
    door_session: DoorSession | None = None,
    command_id: str | None = None,
    device: DeviceRef | None = None,
    detail: dict[str, Any] | None = None,
) -> LendingEvent:
    """Append one history row, taking the item's (and loan's) status as they are now."""
    if resident_id is None:
        for holder in (loan, door_session):
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
        door_session_id=door_session.id if door_session is not None else None,
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


def record_maintenance_open(
    session: Session,
    *,
    staff: StaffAccount,
    item: Item,
    reason: str,
    command_id: str,
    now: datetime,
) -> LendingEvent:
    """Write into the item's history that staff had its compartment opened, and why (the
    audit entry and the command are :func:`devices.locker.maintenance.open_for_maintenance`'s)."""
    return record(
        session,
        item=item,
        action=LendingAction.MAINTENANCE_OPEN,
        actor=staff_actor(staff),
        now=now,
        command_id=command_id,
        detail={
            "reason": reason.strip()[:MAX_REASON_LENGTH],
            "device_id": item.locker_device_id,
            "compartment": item.compartment,
        },
    )
