"""The device protocol at the edge: topics, size limit, typed messages (the schemas are
checked by :mod:`devices.protocol.schemas`).

``docs/protocol.md`` and ``docs/schemas/*.json`` are the contract; this module checks every
inbound payload against them and hands inward only frozen dataclasses. Anything that does
not pass raises :class:`ProtocolError` with a stable reason code, which the bridge turns
into a dead letter.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devices.protocol import json_reading
from devices.protocol.schemas import schema_mismatch

log = logging.getLogger(__name__)

PREFIX = "linli/v1"
MAX_PAYLOAD_BYTES = 8 * 1024
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# The server's own status shares the `{site}/{device}/status` shape under this reserved id.
SERVER_SEGMENT = "server"

# Topic kind (last segment) → schema file, for what devices publish.
DEVICE_KINDS: Mapping[str, str] = {
    "status": "status.json",
    "birth": "birth.json",
    "state": "state.json",
    "event": "event.json",
    "reply": "reply.json",
    "heartbeat": "heartbeat.json",
}
# The kinds a device publishes retained (§2): the broker replays the latest to every subscriber.
RETAINED_KINDS = frozenset({"status", "state"})

# The measured values of a `reading`: they go to the health module, never into device tables.
READING_VALUE_FIELDS = frozenset(
    {"systolic", "diastolic", "mean_arterial_pressure", "unit", "pulse", "flags"}
)
ENVELOPE_FIELDS = frozenset({"v", "device", "session", "seq", "ts"})
# The timestamp fields a device writes; the schemas bound their years (§1).
TIME_FIELDS = frozenset({"ts", "measured_at"})

# Which events each kind of device sends (§7, §8, §8.1): any other is a message of the wrong kind.
EVENTS_OF_KIND: Mapping[str, frozenset[str]] = {
    "locker": frozenset(
        {
            "door_opened",
            "door_closed",
            "item_present_changed",
            "door_left_open",
            "forced_open",
            "jammed",
        }
    ),
    "bp_terminal": frozenset({"card_read", "measurement_started", "reading", "measurement_error"}),
    "kiosk_reader": frozenset({"card_read", "code_scanned"}),
}
# The key of each kind's full state (§7, §8, §8.1).
STATE_KEY_OF_KIND: Mapping[str, str] = {
    "locker": "compartments",
    "bp_terminal": "phase",
    "kiosk_reader": "reader",
}


class Reason:
    """Stable reason codes of dead letters."""

    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    SCHEMA = "schema"
    SPOOFED = "spoofed"
    UNKNOWN_TOPIC = "unknown_topic"
    UNKNOWN_DEVICE = "unknown_device"
    WRONG_SITE = "wrong_site"
    WRONG_KIND = "wrong_kind"
    HANDLER_ERROR = "handler_error"
    # Re-sent from before what the ledger still holds: it may have been applied already
    # (devices/fleet/retention.py), so it is kept here and never applied again.
    BEYOND_LEDGER = "beyond_ledger"
    # A time the device cannot have meant: outside the schema's years, ahead of the server's
    # clock, or a reading measured after the message that carries it was made.
    IMPOSSIBLE_TIME = "impossible_time"
    # An event, birth, reply or heartbeat the broker replayed as retained (§2: never retained).
    RETAINED = "retained"


class ProtocolError(Exception):
    """A message broke the contract; ``reason`` is one of :class:`Reason`."""

    def __init__(
        self,
        reason: str,
        detail: str = "",
        *,
        device: str | None = None,
        envelope: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.device = device
        # (session, seq) of a message refused for what it says but with a readable envelope
        # (an impossible time): an event among them can still be acknowledged.
        self.envelope = envelope


# --- topics -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Topic:
    site: str
    device: str
    kind: str

    def __str__(self) -> str:
        return f"{PREFIX}/{self.site}/{self.device}/{self.kind}"


def device_topic(site: str, device: str, kind: str) -> str:
    return f"{PREFIX}/{site}/{device}/{kind}"


def server_status_topic(site: str) -> str:
    return f"{PREFIX}/{site}/{SERVER_SEGMENT}/status"


def subscriptions(site: str) -> list[str]:
    """What the bridge of ``site`` subscribes to: every device-published kind, any device."""
    return [f"{PREFIX}/{site}/+/{kind}" for kind in DEVICE_KINDS]


def is_server_status(topic: str) -> bool:
    """The server's own retained status, which the bridge's `+/status` subscription also hears."""
    parts = topic.split("/")
    return len(parts) == 5 and parts[3] == SERVER_SEGMENT and parts[4] == "status"


# A worker's commit process reads the same few thousand topics (its centres' devices, a kind
# each) over and over: each is split and matched once (4 % of that process's CPU, in
# bench/mqtt_ingest.py). Topics come only under the bridge's subscriptions, one segment free;
# a refused one raises and is not kept.
@functools.lru_cache(maxsize=1 << 15)
def parse_topic(topic: str) -> Topic:
    parts = topic.split("/")
    if (
        len(parts) != 5
        or f"{parts[0]}/{parts[1]}" != PREFIX
        or not ID_PATTERN.match(parts[2])
        or not ID_PATTERN.match(parts[3])
    ):
        raise ProtocolError(Reason.UNKNOWN_TOPIC, "not linli/v1/{site}/{device}/{kind}")
    site, device, kind = parts[2], parts[3], parts[4]
    if kind not in DEVICE_KINDS:
        raise ProtocolError(Reason.UNKNOWN_TOPIC, f"unknown kind {kind[:32]!r}", device=device)
    return Topic(site, device, kind)


# --- typed messages ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    device: str
    session: int
    online: bool
    ts: datetime


@dataclass(frozen=True, slots=True)
class Heartbeat:
    device: str
    session: int
    ts: datetime


@dataclass(frozen=True, slots=True)
class Birth:
    device: str
    session: int
    seq: int
    ts: datetime
    kind: str
    firmware: str
    capabilities: Mapping[str, Any]
    heartbeat_s: int
    state: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class State:
    device: str
    session: int
    seq: int
    ts: datetime
    state: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    device: str
    session: int
    seq: int
    ts: datetime
    type: str
    # The type-specific fields (``compartment``, ``command_id``, ``systolic`` …).
    fields: Mapping[str, Any] = field(default_factory=dict)

    def without_health_values(self) -> dict[str, Any]:
        """The fields fit to store in device tables: a reading's measurements removed."""
        if self.type != "reading":
            return dict(self.fields)
        return {k: v for k, v in self.fields.items() if k not in READING_VALUE_FIELDS}


@dataclass(frozen=True, slots=True)
class Reply:
    device: str
    session: int
    seq: int
    ts: datetime
    command_id: str
    status: str
    reason: str | None


Message = Status | Heartbeat | Birth | State | Event | Reply
Sequenced = Birth | State | Event | Reply


@dataclass(frozen=True, slots=True)
class Parsed:
    topic: Topic
    message: Message


def parse_ts(text: str) -> datetime:
    # The schema's pattern admits 2026-02-31; fromisoformat does not.
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse(topic: str, payload: bytes) -> Parsed:
    """Validate one inbound message against the contract and return it typed.

    Raises :class:`ProtocolError` for an unknown topic, more than 8 KiB, bad JSON, a schema
    mismatch, or a ``device`` field that is not the topic's device (spoofing).
    """
    where = parse_topic(topic)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(
            Reason.TOO_LARGE, f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}", device=where.device
        )
    try:
        # Decoded here, as the contract says UTF-8: json.loads of bytes would first guess
        # among UTF-8/16/32 (a third of its time for a small event) and accept UTF-16 too.
        data = json_reading.value(payload, payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(Reason.NOT_JSON, str(error)[:200], device=where.device) from None
    except RecursionError:
        # 8 KiB of "[[[[…" nests deeper than the decoder recurses: refuse it here, or the
        # error would escape the batch and wedge the bridge retrying it forever.
        raise ProtocolError(Reason.NOT_JSON, "nested too deeply", device=where.device) from None
    mismatch = schema_mismatch(DEVICE_KINDS[where.kind], data)
    if mismatch is not None:
        reason = _reason_of(mismatch)
        raise ProtocolError(
            reason,
            mismatch,
            device=where.device,
            envelope=_envelope(data) if reason == Reason.IMPOSSIBLE_TIME else None,
        )
    if data["device"] != where.device:
        raise ProtocolError(
            Reason.SPOOFED,
            f"payload device {data['device']!r} on topic of {where.device!r}",
            device=where.device,
        )
    try:
        return Parsed(where, _build(where.kind, data))
    except ValueError as error:
        raise ProtocolError(Reason.SCHEMA, str(error)[:200], device=where.device) from None


def _reason_of(mismatch: str) -> str:
    """A timestamp outside the schema's pattern (its years are bounded) is an impossible
    time, so staff read the same reason whichever check refused it."""
    path, _sep, rule = mismatch.partition(": ")
    field_name = path.rsplit("/", 1)[-1]
    if field_name in TIME_FIELDS and rule.startswith("pattern"):
        return Reason.IMPOSSIBLE_TIME
    return Reason.SCHEMA


def _envelope(data: object) -> tuple[int, int] | None:
    if not isinstance(data, dict) or data.get("device") is None:
        return None
    session, seq = data.get("session"), data.get("seq")
    if type(session) is int and type(seq) is int and 0 <= session < 2**31 and 0 <= seq < 2**31:
        return session, seq
    return None


def _build(kind: str, data: dict[str, Any]) -> Message:
    device, session, ts = data["device"], data["session"], parse_ts(data["ts"])
    if kind == "status":
        return Status(device, session, data["state"] == "online", ts)
    if kind == "heartbeat":
        return Heartbeat(device, session, ts)
    seq = data["seq"]
    if kind == "birth":
        return Birth(
            device,
            session,
            seq,
            ts,
            data["kind"],
            data["firmware"],
            data["capabilities"],
            data["heartbeat_s"],
            data["state"],
        )
    if kind == "state":
        return State(device, session, seq, ts, data["state"])
    if kind == "event":
        fields = {k: v for k, v in data.items() if k not in ENVELOPE_FIELDS and k != "type"}
        return Event(device, session, seq, ts, data["type"], fields)
    if kind == "reply":
        return Reply(
            device, session, seq, ts, data["command_id"], data["status"], data.get("reason")
        )
    raise ValueError(f"no message kind {kind!r}")  # parse_topic admits only known kinds


def encode(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# ack.json's maxItems: one ack stays small for a device's receive buffer whatever the batch.
MAX_ACK_RANGES = 64


def seq_ranges(seqs: Iterable[int]) -> list[list[int]]:
    """Sorted seqs as inclusive ``[first, last]`` runs: ``{1, 2, 3, 5}`` → ``[[1, 3], [5, 5]]``."""
    ranges: list[list[int]] = []
    for seq in sorted(set(seqs)):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
    return ranges


def ack_payloads(session: int, seqs: Iterable[int]) -> list[bytes]:
    """The ``ack`` messages for these committed events of one session: one message per
    :data:`MAX_ACK_RANGES` runs of consecutive seqs (a burst of 500 events is one message)."""
    ranges = seq_ranges(seqs)
    return [
        encode({"v": 1, "session": session, "seqs": ranges[start : start + MAX_ACK_RANGES]})
        for start in range(0, len(ranges), MAX_ACK_RANGES)
    ]


def server_status_payload(online: bool, now: datetime, *, rebirth: bool = True) -> bytes:
    """``rebirth`` is said only when it is false (docs/protocol.md §4): a device that hears
    nothing of it re-births, as every device did before the field existed."""
    if not online:
        return encode({"v": 1, "state": "offline", "ts": iso_z(now)})
    if rebirth:
        return encode({"v": 1, "state": "online", "ts": iso_z(now)})
    return encode({"v": 1, "state": "online", "rebirth": False, "ts": iso_z(now)})
