"""What a device writes and reads on the wire (docs/protocol.md): its times, its payloads'
JSON, the envelopes of status and heartbeat, the server's acks, and the broker's address."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

PROTOCOL_VERSION = 1

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The device's real-time clock, which the protocol asks devices to keep in sync (NTP)."""
    return datetime.now(UTC)


def utc_ts(moment: datetime) -> str:
    """ISO 8601 UTC with a literal Z and milliseconds, the protocol's only time format."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def status_payload(device_id: str, session: int, state: str, now: datetime) -> dict[str, Any]:
    """The retained ``status`` (online, or offline in the Will), naming its session."""
    return {
        "v": PROTOCOL_VERSION,
        "device": device_id,
        "session": session,
        "state": state,
        "ts": utc_ts(now),
    }


def sequenced_payload(
    device_id: str, session: int, seq: int, now: datetime, body: dict[str, Any]
) -> dict[str, Any]:
    """A birth, state, event or reply: the envelope with its session and seq, then the body."""
    return {
        "v": PROTOCOL_VERSION,
        "device": device_id,
        "session": session,
        "seq": seq,
        "ts": utc_ts(now),
        **body,
    }


def heartbeat_payload(device_id: str, session: int, now: datetime) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "device": device_id, "session": session, "ts": utc_ts(now)}


def parse_ack(payload: bytes) -> tuple[int, list[tuple[int, int]]] | None:
    """The server's ``ack``: its session and the inclusive [first, last] runs of seqs it
    committed; None for a malformed one."""
    try:
        ack = json.loads(payload)
        session, seqs = ack["session"], ack["seqs"]
        ranges = [(int(first), int(last)) for first, last in seqs]
        valid = isinstance(session, int) and all(
            isinstance(first, int) and isinstance(last, int) and 0 <= first <= last
            for first, last in seqs
        )
    except (ValueError, KeyError, TypeError):
        return None
    return (session, ranges) if valid else None


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://host:1883, not {url!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or 1883,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
