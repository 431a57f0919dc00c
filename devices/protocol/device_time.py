"""Which device times the server believes, judged against the server's own clock.

A device's clock is set by NTP (docs/protocol.md §1). One that was never set says 1970 or
2000, and one set by hand may say 2030; either would date a reading wrongly for good. So:

- a time outside the schema's years (2024–2099) is refused by the schema itself;
- a time ahead of the server's clock by more than :data:`MAX_AHEAD` cannot be true and is
  refused, as is a reading measured after the message that carries it was made;
- a heartbeat (QoS 0, never queued, so it is always fresh) more than
  :data:`CLOCK_FAULT_AFTER` off the server's clock raises the "device clock" fault, which
  closes at the first heartbeat back in step.

Old times are not refused: an event may wait in a device's outbox for days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from devices.protocol.messages import Birth, Event, Reply, State, parse_ts

CLOCK_FAULT_AFTER = timedelta(minutes=2)
MAX_AHEAD = timedelta(minutes=5)
# A reading is made when the cuff is done and published at once: its `ts` may be later
# than `measured_at` (it waited in the outbox), never earlier.
MEASURED_AFTER_TS_SLACK = timedelta(seconds=1)


def impossible(message: Birth | State | Event | Reply, received_at: datetime) -> str | None:
    """Why ``message``'s times cannot be true by the server's clock at ``received_at``
    (None when they can). The reason names fields and offsets, never a value."""
    ahead = message.ts - received_at
    if ahead > MAX_AHEAD:
        return f"ts is {_seconds(ahead)} s ahead of the server's clock"
    if isinstance(message, Event) and message.type == "reading":
        measured_at = parse_ts(str(message.fields["measured_at"]))
        ahead = measured_at - received_at
        if ahead > MAX_AHEAD:
            return f"measured_at is {_seconds(ahead)} s ahead of the server's clock"
        if measured_at - message.ts > MEASURED_AFTER_TS_SLACK:
            return "measured_at is later than the message's ts"
    return None


def skew(device_ts: datetime, received_at: datetime) -> timedelta:
    """How far the device's clock is from the server's (positive: the device is ahead)."""
    return device_ts - received_at


def clock_is_off(device_ts: datetime, received_at: datetime) -> bool:
    return abs(skew(device_ts, received_at)) > CLOCK_FAULT_AFTER


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())
