"""A transaction's batches read and their devices locked, before any message is applied
(devices.ingest.apply)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from booking.core.models.sites import Site
from devices.models.device import Device
from devices.protocol.messages import (
    Heartbeat,
    Parsed,
    ProtocolError,
    Reason,
    Reply,
    Status,
    is_server_status,
    parse,
)

if TYPE_CHECKING:
    from devices.ingest.apply import Inbound

# Each message of a batch parsed, or why it cannot be.
Checked = list[tuple["Inbound", Parsed | ProtocolError]]

# Built once: in a district most transactions carry one or two events, and building this
# statement each time (SQLAlchemy's operator overloading and coercions) was a quarter of the
# time spent locking (py-spy, docs/benchmarks.md).
_DEVICES = (
    select(Device, Site.slug)
    .join(Site, Site.id == Device.site_id)
    .where(Device.device_id.in_(bindparam("device_ids", expanding=True)))
)
# Several workers may apply batches at once (docs/architecture.md). Locking the transaction's
# devices first makes two transactions of one device take turns: the second reads the counters
# and the ledger as the first committed them, so a message both received (a re-send, a
# redelivery) is applied once and no counter update is lost. All of them in one statement, in
# device_id order, so that two transactions never wait for each other. SQLite has one writer
# anyway.
# FOR NO KEY UPDATE, not FOR UPDATE: batches still take turns, but a row that refers to the
# device (a command issued for it, checked by its foreign key's FOR KEY SHARE) is written at
# once instead of waiting for the batch to commit. That wait was the start of a command's
# round trip whenever the locker's own messages were being committed (docs/benchmarks.md).
_DEVICES_LOCKED = _DEVICES.order_by(Device.device_id).with_for_update(of=Device, key_share=True)


def check(items: Sequence[Inbound]) -> Checked:
    """Each message parsed, or why it cannot be (our own status and retained deletions left
    out)."""
    checked: Checked = []
    for item in items:
        if is_server_status(item.topic):
            continue  # our own status, heard through the `+/status` subscription
        if not item.payload:
            # How MQTT deletes a retained copy (ours of a refused retained event, or a
            # device's own): no message to apply or refuse.
            continue
        try:
            checked.append((item, parse(item.topic, item.payload)))
        except ProtocolError as error:
            checked.append((item, error))
    return checked


def devices_of(checked: Checked) -> set[str]:
    """The devices a batch's messages are from (a misdated one's too: it gets a fault)."""
    found: set[str] = set()
    for _, result in checked:
        if isinstance(result, Parsed):
            found.add(result.topic.device)
        elif result.reason == Reason.IMPOSSIBLE_TIME and result.device is not None:
            found.add(result.device)
    return found


def devices_with_state(checked: Checked) -> set[str]:
    """The devices a batch has a birth, a state or an event for: those whose compartments its
    messages read. A heartbeat, a status or a reply reads none, so a command's answer alone
    does not wait for them (a handler that needs them after all reads them then)."""
    return {
        result.topic.device
        for _, result in checked
        if isinstance(result, Parsed) and not isinstance(result.message, Heartbeat | Status | Reply)
    }


def lock_devices(session: Session, device_ids: set[str]) -> dict[str, tuple[Device, str]]:
    """The devices (and their centres' slugs) of ``device_ids`` that are registered, locked on
    PostgreSQL."""
    if not device_ids:
        return {}
    postgresql = session.get_bind().dialect.name == "postgresql"
    rows = session.execute(
        _DEVICES_LOCKED if postgresql else _DEVICES, {"device_ids": sorted(device_ids)}
    )
    return {device.device_id: (device, slug) for device, slug in rows}
