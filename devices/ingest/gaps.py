"""A seq gap waits a moment for its late messages before the device is asked to resync.

Sparkplug's reorder timeout: a host that sees a seq out of order waits a while for the missing
ones before it asks for a rebirth. Here several workers share a centre's MQTT traffic (a
round-robin ``$share`` subscription), so a device's consecutive messages land on different
workers and the later one often commits first; a resync at once cost the device a birth, a
state and the replies, thousands of times in a district's start (docs/scaling.md, item 3).

So a batch that applies a seq past the device's next one only notes the gap on the device row
(:meth:`~devices.models.device.Device.open_gap`, from
:func:`devices.fleet.registry.note_sequence` and ``apply_heartbeat``), and the scheduler's job
(:func:`settle_gaps`, one scheduler per deployment) decides: when the ledger holds every
missing message of that session (``device_messages``, whichever worker wrote it) the gap
closes; when it still lacks one once :data:`REORDER_WAIT` has passed, the device gets its
resync. A newer session closes the gap by itself (its birth carries the whole state). Late
messages were always applied when they came; only the resync waits.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devices.fleet import device_locks
from devices.ingest import resync
from devices.models.commands import DeviceCommand
from devices.models.device import Device
from devices.models.messages import DeviceMessage

log = logging.getLogger(__name__)

# How long a gap waits for its late messages: a worker's batch commits within tens of
# milliseconds unless the workers are behind, and a device that really lost a message is
# asked for its state a few seconds later instead of at once.
REORDER_WAIT = timedelta(seconds=3)


def any_open(session: Session) -> bool:
    """Whether any device has an open gap (by the index; almost always none)."""
    found = session.scalar(select(Device.id).where(Device.gap_noticed_at.is_not(None)).limit(1))
    return found is not None


def settle_gaps(session: Session, now: datetime) -> list[DeviceCommand]:
    """Close every open gap whose missing messages are all applied; ask for a resync where one
    is still missing once the wait is over. Returns the resync commands issued (published by
    the command sender once the transaction commits, as every issued command is)."""
    found = list(session.scalars(select(Device).where(Device.gap_noticed_at.is_not(None))))
    issued: list[DeviceCommand] = []
    # Locked in the batches' order and looked at again: a batch may have closed or widened
    # a gap meanwhile, and none may apply a late message between the count and the decision.
    for device in device_locks.lock_in_batch_order(session, found):
        if device.gap_noticed_at is None:
            continue
        if _all_applied(session, device):
            device.close_gap()
        elif now - device.gap_noticed_at >= REORDER_WAIT and device.online:
            # (Offline, it would refuse the command: the gap stays until the device is heard
            # again, by a heartbeat of this session, or a new session closes it.)
            command = resync.issue_resync(session, device.device_id, now)
            if command is not None:
                log.info(
                    "sequence gap from %s (session %s, seq %s-%s): resync %s",
                    device.device_id,
                    device.gap_session,
                    device.gap_first_seq,
                    device.gap_last_seq,
                    command.id,
                )
                issued.append(command)
            # Asked once: the device's answer (a birth and state) settles it, and a device
            # with a resync under way needs no second one.
            device.close_gap()
    return issued


def _all_applied(session: Session, device: Device) -> bool:
    first, last = device.gap_first_seq, device.gap_last_seq
    assert first is not None and last is not None
    held = session.scalar(
        select(func.count())
        .select_from(DeviceMessage)
        .where(
            DeviceMessage.device_id == device.device_id,
            DeviceMessage.session == device.gap_session,
            DeviceMessage.seq.between(first, last),
        )
    )
    return held == last - first + 1
