"""What a device's message says about the device, beside its content: a message of the wrong
kind, a session counter that went back, a clock that is off."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from devices.fleet import registry
from devices.models.device import Device
from devices.models.faults import FaultKind
from devices.protocol import device_time
from devices.protocol.messages import (
    EVENTS_OF_KIND,
    STATE_KEY_OF_KIND,
    Birth,
    Event,
    Heartbeat,
    Message,
    Sequenced,
    State,
)

if TYPE_CHECKING:
    from devices.ingest.apply import Inbound


def wrong_kind(device: Device, message: Sequenced) -> str | None:
    """Why ``message`` cannot come from a device of this kind (None when it can)."""
    kind = device.kind.value
    if isinstance(message, Birth) and message.kind != kind:
        return f"birth as {message.kind!r}, registered as {kind!r}"
    if isinstance(message, Event) and message.type not in EVENTS_OF_KIND[kind]:
        return f"a {message.type!r} event from a device registered as {kind!r}"
    if isinstance(message, State) and STATE_KEY_OF_KIND[kind] not in message.state:
        return f"a state without {STATE_KEY_OF_KIND[kind]!r} from a device registered as {kind!r}"
    return None


def counter_behind(
    session: Session, device: Device, item: Inbound, message: Message, now: datetime
) -> bool:
    """Whether to hold ``message`` because the device's session counter went back.

    A live heartbeat (QoS 0: never queued, never re-sent) from a session below the one the
    server knows means the device lost its counter (flash wiped, board replaced): that opens
    the "session behind" fault, and while it is open nothing of the lower sessions is
    applied. The fault closes by itself once the device's counter passes the known one.
    """
    known = device.session_counter
    if known is None:
        return False
    if message.session >= known:
        registry.close_device_fault(session, device.device_id, FaultKind.SESSION_BEHIND, now)
        return False
    if isinstance(message, Heartbeat) and not item.retained:
        registry.open_fault(session, device.device_id, None, FaultKind.SESSION_BEHIND, now)
        return True
    return registry.has_open_fault(session, device.device_id, FaultKind.SESSION_BEHIND)


def judge_clock(
    session: Session, device: Device, item: Inbound, heartbeat: Heartbeat, now: datetime
) -> None:
    """A heartbeat is always fresh (QoS 0, never queued): its `ts` against the server's clock
    at receipt says whether the device's clock is right."""
    if item.retained:
        return
    if device_time.clock_is_off(heartbeat.ts, item.received_at):
        registry.open_fault(session, device.device_id, None, FaultKind.DEVICE_CLOCK, now)
    else:
        registry.close_device_fault(session, device.device_id, FaultKind.DEVICE_CLOCK, now)
