"""Bad input a device might send, and the fault console of `linli-sim` (one line, one fault).

The server must reject every malformed payload here and change nothing."""

from __future__ import annotations

import json
from typing import Any

PAYLOAD_LIMIT = 8 * 1024
MALFORMED_KINDS = (
    "not_json",
    "not_an_object",
    "wrong_version",
    "spoofed_device",
    "unknown_event",
    "oversize",
)


def malformed(kind: str, device_id: str, session: int, ts: str) -> tuple[str, bytes]:
    """(topic suffix, payload) of a malformed message of the given kind."""
    base: dict[str, Any] = {
        "v": 1,
        "device": device_id,
        "session": session,
        # A seq no real message will take, so a lenient server would at worst see a gap.
        "seq": 2_000_000_000,
        "ts": ts,
        "type": "door_closed",
        "compartment": 1,
    }
    if kind == "not_json":
        return "event", b'{"v": 1, "device": "' + device_id.encode() + b'", "type": door_closed'
    if kind == "not_an_object":
        return "event", b'["door_closed", 1]'
    if kind == "wrong_version":
        return "event", encode({**base, "v": 2})
    if kind == "spoofed_device":
        return "event", encode({**base, "device": "someone-else"})
    if kind == "unknown_event":
        return "event", encode({**base, "type": "exploded"})
    if kind == "oversize":
        return "event", encode({**base, "padding": "x" * (PAYLOAD_LIMIT + 1)})
    raise ValueError(f"unknown malformed kind {kind!r}; choose from {', '.join(MALFORMED_KINDS)}")


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
