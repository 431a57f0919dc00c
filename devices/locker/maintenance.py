"""Opening a locker compartment for maintenance: a staff member, a stated reason, an audit entry.

The command carries ``requested_by="maintenance:<staff>:<reason>"`` so the device's command
log says why a door opened outside a pickup or return; the audit entry keeps the whole
reason (the command's field is cut at 100 characters).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import InvalidInput
from booking.lending import history as lending_history
from booking.lending.models.tools import Item
from booking.people.models.staff import StaffAccount
from devices.commands import operations as commands
from devices.commands.operations import DeviceNotFound
from devices.models.commands import DeviceCommand
from devices.models.device import Device, DeviceKind

MAX_REASON = 500
REQUESTED_BY_PREFIX = "maintenance:"
OPEN_TTL = timedelta(seconds=30)
ACTION = "locker.opened_for_maintenance"


def requested_by(staff: StaffAccount, reason: str) -> str:
    return f"{REQUESTED_BY_PREFIX}{staff.username}:{' '.join(reason.split())}"[:100]


def open_for_maintenance(
    session: Session,
    staff: StaffAccount,
    *,
    device_id: str,
    compartment: int,
    reason: str,
    now: datetime,
) -> DeviceCommand:
    """Issue ``open`` for one compartment of a locker at the staff member's own site.

    Raises :class:`InvalidInput` without a reason, :class:`DeviceNotFound` for a device of
    another site or not a locker, and what :func:`devices.commands.operations.issue` raises (offline,
    no such compartment). Publish the returned command after the transaction commits.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the compartment must open", field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput("the reason is too long", field="reason", max=MAX_REASON)
    device = session.scalar(select(Device).where(Device.device_id == device_id))
    if (
        device is None
        or device.site_id != staff.working_site_id
        or device.kind is not DeviceKind.LOCKER
    ):
        raise DeviceNotFound(f"no locker {device_id!r} at this site", device_id=device_id)
    command = commands.issue(
        session,
        device_id,
        "open",
        {"compartment": compartment},
        now,
        ttl=OPEN_TTL,
        requested_by=requested_by(staff, reason),
    )
    # Whichever page asked (the device board or the item's page), the item kept in that
    # compartment gets the opening in its lending history too.
    item = session.scalar(
        select(Item).where(Item.locker_device_id == device_id, Item.compartment == compartment)
    )
    if item is not None:
        lending_history.record_maintenance_open(
            session, staff=staff, item=item, reason=reason, command_id=command.id, now=now
        )
    audit.record_staff(
        session,
        staff,
        action=ACTION,
        now=now,
        subject=f"device:{device_id}",
        detail={"compartment": compartment, "reason": reason, "command_id": command.id},
    )
    return command
