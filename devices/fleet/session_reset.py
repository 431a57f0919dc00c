"""An admin resets a device's session counter after the device lost it (docs/protocol.md §3).

A device whose storage was wiped, or whose board was replaced, counts its connects from 1
again. The server, which knows a higher counter, would take its every message for a late
one of an old connection; instead it holds them and shows "session counter went back" on
the device board (:func:`devices.ingest.judge.counter_behind`). The admin who knows the device
was replaced resets the counter there: the server then takes the device's next message as
its new start (a heartbeat from a session it has not seen begin asks for a resync), and the
events the device kept meanwhile are applied when it re-sends them.

The reset forgets what the server had applied of the device's old sessions, since the new
counter will use the same numbers again: the ledger rows of this device (kept only to
refuse duplicates) go, and each compartment's "set by (session, seq)" marks start over, so
the new board's reports are not taken for older ones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import DomainError
from booking.people.models.staff import StaffAccount
from devices.commands.operations import DeviceNotFound
from devices.fleet import batch_cache, registry
from devices.models.compartments import Compartment
from devices.models.device import Device
from devices.models.faults import FaultKind
from devices.models.messages import DeviceMessage

ACTION = "device.session_counter_reset"


class AdminOnly(DomainError):
    code = "admin_only"
    status = 403


class CounterNotBehind(DomainError):
    """Only a device shown as "session counter went back" is reset: forgetting a healthy
    device's ledger would let a re-sent event of its current session apply twice."""

    code = "session_counter_not_behind"
    status = 409


def reset_session_counter(
    session: Session, staff: StaffAccount, *, device_id: str, now: datetime
) -> int | None:
    """Forget the device's session counter (an admin of its site only), audited.

    Returns the counter the server knew. Raises :class:`AdminOnly` for a staff member who
    is not an admin, :class:`~devices.commands.operations.DeviceNotFound` for a device of another site
    and :class:`CounterNotBehind` unless the device's "session behind" fault is open.
    """
    if not staff.is_admin:
        raise AdminOnly("only an admin can reset a device's session counter")
    device = session.scalar(select(Device).where(Device.device_id == device_id))
    if device is None or device.site_id != staff.working_site_id:
        raise DeviceNotFound(f"no device {device_id!r} at this site", device_id=device_id)
    if not registry.has_open_fault(session, device_id, FaultKind.SESSION_BEHIND):
        raise CounterNotBehind(
            f"the session counter of {device_id!r} has not gone back", device_id=device_id
        )
    was = device.session_counter
    device.session_counter = None
    device.last_seq = None
    device.close_gap()  # of an old session: the new board's counter starts over
    # The retention job's "pruned through" mark speaks of the old sessions too: kept, it would
    # take the new counter's messages at or below it for ones already applied and pruned.
    device.ledger_pruned_through = None
    device.state_version = -1  # as the compartments' versions below: the new counter's count
    released = session.execute(delete(DeviceMessage).where(DeviceMessage.device_id == device_id))
    session.execute(
        update(Compartment)
        .where(Compartment.device_id == device_id)
        .values(lock_version=-1, door_version=-1, item_version=-1)
    )
    batch_cache.forget(session)
    registry.close_device_fault(session, device_id, FaultKind.SESSION_BEHIND, now)
    audit.record_staff(
        session,
        staff,
        action=ACTION,
        now=now,
        subject=f"device:{device_id}",
        detail={
            "session_counter_was": was,
            "ledger_rows_released": int(getattr(released, "rowcount", 0) or 0),
        },
    )
    return was
