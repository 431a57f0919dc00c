"""Applying a batch of inbound device messages in the caller's one write transaction.

The bridge hands over raw MQTT messages; this module validates them
(:mod:`devices.protocol.messages`), refuses what breaks the contract into dead letters, applies each
(device, session, seq) once, keeps the registry current and dispatches events to the
handlers other modules register (lending, health). It returns what must happen *after*
the commit: which events to acknowledge to their devices and which resync commands to send.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, or_, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.core.models.sites import Site
from devices.commands import operations as commands
from devices.fleet import registry, retention
from devices.ingest import dead_letters
from devices.ingest.ledger import LedgerRow, insert_rows
from devices.models import (
    CommandState,
    Device,
    DeviceCommand,
    DeviceKind,
    DeviceMessage,
    FaultKind,
)
from devices.protocol import device_time
from devices.protocol.messages import (
    EVENTS_OF_KIND,
    STATE_KEY_OF_KIND,
    Birth,
    Event,
    Heartbeat,
    Message,
    Parsed,
    ProtocolError,
    Reason,
    Reply,
    Sequenced,
    State,
    Status,
    is_server_status,
    parse,
    parse_topic,
)

log = logging.getLogger(__name__)

RESYNC_TTL = timedelta(seconds=30)
RESYNC_REQUESTED_BY = "bridge: sequence gap"
# The only kinds a device publishes retained (§2); the broker's replay of any other is refused.
RETAINED_KINDS = frozenset({"status", "state"})
# Refused for what they say, not for how they were sent: stored as a dead letter, so an event
# among them is acknowledged, or the device would re-send it forever.
_ACKED_REFUSALS = frozenset({Reason.WRONG_KIND, Reason.IMPOSSIBLE_TIME, Reason.RETAINED})

EventHandler = Callable[[Session, Device, Event, datetime], object]
ReplyHandler = Callable[[Session, Device, Reply, datetime], object]
# Called after the registry applied a full state (a birth's or a `state`'s).
StateHandler = Callable[[Session, Device, Birth | State, datetime], object]


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database is unreachable or busy (retry the batch later)
    rather than that this one message cannot be applied."""
    return isinstance(
        error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError
    ) or (isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)


class Handlers:
    """The extension point for domain modules: functions called, in the ingest transaction,
    for each newly applied event of a type (``register("door_opened", fn)``), each reply,
    and each full state once the registry has applied it (``register_state``).

    A handler that raises sends its message to the dead letters; nothing it did is kept.
    Replies go to :func:`devices.commands.operations.record_reply` unless told otherwise.
    """

    def __init__(self) -> None:
        self._events: dict[str, list[EventHandler]] = defaultdict(list)
        self._replies: list[ReplyHandler] = [_record_reply]
        self._states: list[StateHandler] = []

    def register(self, event_type: str, handler: EventHandler) -> None:
        self._events[event_type].append(handler)

    def register_reply(self, handler: ReplyHandler) -> None:
        self._replies.append(handler)

    def register_state(self, handler: StateHandler) -> None:
        self._states.append(handler)

    def event(self, session: Session, device: Device, event: Event, now: datetime) -> None:
        for handler in self._events.get(event.type, ()):
            handler(session, device, event, now)

    def reply(self, session: Session, device: Device, reply: Reply, now: datetime) -> None:
        for handler in self._replies:
            handler(session, device, reply, now)

    def state(
        self, session: Session, device: Device, message: Birth | State, now: datetime
    ) -> None:
        for handler in self._states:
            handler(session, device, message, now)


def _record_reply(session: Session, device: Device, reply: Reply, now: datetime) -> None:
    commands.record_reply(session, reply, now)


class Inbound(NamedTuple):
    """One MQTT message as received; ``retained`` when the broker replayed a retained one.

    (Tuples, here and for acks: made for every message, they cost a third of a frozen
    dataclass.)
    """

    topic: str
    payload: bytes
    received_at: datetime
    retained: bool = False


class Ack(NamedTuple):
    """An event the server has committed: its device will be told in an `ack` (§5)."""

    site: str
    device: str
    session: int
    seq: int


@dataclass
class Outcome:
    acks: list[Ack] = field(default_factory=list)
    # Resync commands created in the transaction, to publish once it commits.
    resyncs: list[DeviceCommand] = field(default_factory=list)
    dead_letters: Counter[str] = field(default_factory=Counter)
    # Topics holding a retained copy that must not be (a refused retained event): the bridge
    # clears each after the commit.
    clear_retained: list[str] = field(default_factory=list)
    applied: int = 0
    duplicates: int = 0


@dataclass
class _Result:
    ack: Ack | None = None
    resync: bool = False
    duplicate: bool = False
    # The ledger row to insert with the rest of the batch (None: nothing to store).
    row: LedgerRow | None = None


class _Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _load_devices(session: Session, device_ids: set[str]) -> dict[str, tuple[Device, str]]:
    if not device_ids:
        return {}
    rows = session.execute(
        select(Device, Site.slug)
        .join(Site, Site.id == Device.site_id)
        .where(Device.device_id.in_(sorted(device_ids)))
    )
    return {device.device_id: (device, slug) for device, slug in rows}


def _applied_keys(
    session: Session,
    parsed: Sequence[Parsed],
    devices: dict[str, tuple[Device, str]],
    asked: set[tuple[str, int, int]] | None = None,
) -> set[tuple[str, int, int]]:
    """Which of the batch's (device, session, seq) are in the ledger already: one query for
    those that can be (:func:`devices.fleet.registry.may_have_applied`), none for a batch of new
    messages, the usual case. Those looked up are added to ``asked``.

    One ``device = ? AND session = ? AND seq IN (…)`` term per (device, session), OR-ed: each
    is a search of the unique index. A row-value ``(device, session, seq) IN (…)`` reads the
    same, but SQLite answers it by scanning the whole table, every batch.
    """
    groups: dict[tuple[str, int], set[int]] = defaultdict(set)
    for p in parsed:
        message = p.message
        if not isinstance(message, Birth | State | Event | Reply):
            continue
        entry = devices.get(message.device)
        if entry is not None and registry.may_have_applied(entry[0], message.session, message.seq):
            groups[(message.device, message.session)].add(message.seq)
    if not groups:
        return set()
    if asked is not None:
        asked.update((d, s, seq) for (d, s), seqs in groups.items() for seq in seqs)
    found = session.execute(
        select(DeviceMessage.device_id, DeviceMessage.session, DeviceMessage.seq).where(
            or_(
                *(
                    and_(
                        DeviceMessage.device_id == device_id,
                        DeviceMessage.session == msg_session,
                        DeviceMessage.seq.in_(sorted(seqs)),
                    )
                    for (device_id, msg_session), seqs in sorted(groups.items())
                )
            )
        )
    )
    return {(device_id, msg_session, seq) for device_id, msg_session, seq in found}


def _sequence_key(parsed: Parsed) -> tuple[str, int, int] | None:
    message = parsed.message
    if isinstance(message, Birth | State | Event | Reply):
        return (message.device, message.session, message.seq)
    return None


def _forgotten_keys(
    session: Session,
    devices: dict[str, tuple[Device, str]],
    asked: set[tuple[str, int, int]],
    applied: set[tuple[str, int, int]],
) -> set[tuple[str, int, int]]:
    """Those the ledger may have held before the retention job pruned them
    (:func:`devices.fleet.retention.forgotten`): looked up, not found, at or below the mark."""
    missing = asked - applied
    if not missing:
        return set()
    counters = {device_id: entry[0].session_counter for device_id, entry in devices.items()}
    return retention.forgotten(session, missing, counters)


def _refuse_forgotten(session: Session, outcome: Outcome, item: Inbound, parsed: Parsed) -> None:
    """Keep it as a dead letter, never apply it: it may have been applied once already.
    An event is acked, or its device would re-send it every few seconds for ever."""
    message = parsed.message
    assert isinstance(message, Birth | State | Event | Reply)
    _dead_letter(
        session,
        outcome,
        item,
        Reason.BEYOND_LEDGER,
        f"session {message.session} seq {message.seq} is older than the ledger keeps: "
        "it may have been applied already",
        parsed.topic.device,
    )
    if isinstance(message, Event):
        outcome.acks.append(Ack(parsed.topic.site, message.device, message.session, message.seq))


def apply_batch(
    session: Session,
    items: Sequence[Inbound],
    now: datetime,
    handlers: Handlers,
    *,
    isolate: bool = False,
) -> Outcome:
    """Validate and apply ``items`` in order inside the caller's transaction.

    With ``isolate``, each message runs in its own savepoint, so one that raises is rolled
    back alone and dead-lettered; without it (the fast path) any error propagates and the
    caller retries the batch isolated. Database outages always propagate.
    """
    outcome = Outcome()
    checked: list[tuple[Inbound, Parsed | ProtocolError]] = []
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
    good = [result for _, result in checked if isinstance(result, Parsed)]
    misdated = {
        result.device
        for _, result in checked
        if isinstance(result, ProtocolError)
        and result.reason == Reason.IMPOSSIBLE_TIME
        and result.device is not None
    }
    devices = _load_devices(session, {p.topic.device for p in good} | misdated)
    asked: set[tuple[str, int, int]] = set()
    applied = _applied_keys(session, good, devices, asked)
    forgotten = _forgotten_keys(session, devices, asked, applied)
    resync_for: set[str] = set()
    # The ledger rows, inserted in one executemany at the end instead of one ORM object
    # (and one flush's worth of bookkeeping) each; nothing in the batch reads them back.
    ledger: list[LedgerRow] = []

    for item, result in checked:
        if isinstance(result, ProtocolError):
            _dead_letter(session, outcome, item, result.reason, result.detail, result.device)
            if result.reason == Reason.IMPOSSIBLE_TIME:
                _impossible_time_refused(session, outcome, item, result, devices, now)
            continue
        if forgotten and _sequence_key(result) in forgotten:
            if devices[result.topic.device][1] == result.topic.site:  # else: refused as usual
                _refuse_forgotten(session, outcome, item, result)
                continue
        try:
            if isolate:
                with session.begin_nested():
                    done = _apply_one(session, item, result, devices, applied, now, handlers)
            else:
                done = _apply_one(session, item, result, devices, applied, now, handlers)
        except _Refused as refused:
            _dead_letter(
                session, outcome, item, refused.reason, refused.detail, result.topic.device
            )
            if refused.reason == Reason.RETAINED and item.topic not in outcome.clear_retained:
                outcome.clear_retained.append(item.topic)
            message = result.message
            if isinstance(message, Event) and refused.reason in _ACKED_REFUSALS:
                outcome.acks.append(
                    Ack(result.topic.site, message.device, message.session, message.seq)
                )
            continue
        except Exception as error:
            if not isolate or is_outage(error):
                raise
            registry.forget_cache(session)
            log.exception("applying %s from %s failed", result.topic.kind, result.topic.device)
            _dead_letter(
                session,
                outcome,
                item,
                Reason.HANDLER_ERROR,
                f"{type(error).__name__}: {error}"[:500],
                result.topic.device,
            )
            # Stored as a dead letter is stored: acknowledge, or the device re-sends forever.
            message = result.message
            if isinstance(message, Event):
                outcome.acks.append(
                    Ack(result.topic.site, message.device, message.session, message.seq)
                )
            continue
        if done.duplicate:
            outcome.duplicates += 1
        else:
            outcome.applied += 1
        if done.row is not None:
            ledger.append(done.row)
        if done.ack is not None:
            outcome.acks.append(done.ack)
        if done.resync and result.topic.device not in resync_for:
            resync_for.add(result.topic.device)
            command = _issue_resync(session, result.topic.device, now)
            if command is not None:
                outcome.resyncs.append(command)
    # On the session's connection, not through the ORM: no per-row ORM bookkeeping and no
    # autoflush (the registry's changes are flushed at commit; nothing here reads them back).
    insert_rows(session.connection(), ledger, now)
    return outcome


def _impossible_time_refused(
    session: Session,
    outcome: Outcome,
    item: Inbound,
    error: ProtocolError,
    devices: dict[str, tuple[Device, str]],
    now: datetime,
) -> None:
    """A time outside the schema's years: a registered device's event is acknowledged (it is
    kept as a dead letter, and would be re-sent forever), and a heartbeat so dated says the
    device's clock was never set."""
    topic = parse_topic(item.topic)
    entry = devices.get(topic.device)
    if entry is None or entry[1] != topic.site or item.retained:
        return
    if topic.kind == "event" and error.envelope is not None:
        msg_session, seq = error.envelope
        outcome.acks.append(Ack(topic.site, topic.device, msg_session, seq))
    elif topic.kind == "heartbeat":
        registry.open_fault(session, topic.device, None, FaultKind.DEVICE_CLOCK, now)


def _dead_letter(
    session: Session,
    outcome: Outcome,
    item: Inbound,
    reason: str,
    detail: str,
    device_id: str | None,
) -> None:
    dead_letters.record(
        session,
        topic=item.topic,
        reason=reason,
        payload=item.payload,
        received_at=item.received_at,
        device_id=device_id,
        detail=detail,
    )
    outcome.dead_letters[reason] += 1


def _apply_one(
    session: Session,
    item: Inbound,
    parsed: Parsed,
    devices: dict[str, tuple[Device, str]],
    applied: set[tuple[str, int, int]],
    now: datetime,
    handlers: Handlers,
) -> _Result:
    topic, message = parsed.topic, parsed.message
    entry = devices.get(topic.device)
    if entry is None:
        raise _Refused(Reason.UNKNOWN_DEVICE, f"no device {topic.device!r} is registered")
    device, site = entry
    if site != topic.site:
        raise _Refused(Reason.WRONG_SITE, f"device {topic.device!r} belongs to site {site!r}")
    if item.retained and topic.kind not in RETAINED_KINDS:
        # Published retained by mistake: its live copy was handled when it came (the broker
        # strips the flag then); this is the broker replaying it to a new subscription.
        raise _Refused(Reason.RETAINED, f"a {topic.kind} replayed as retained; never retain it")
    if isinstance(message, Birth | State | Event | Reply):
        wrong = _wrong_kind(device, message)
        if wrong is not None:
            raise _Refused(Reason.WRONG_KIND, wrong)
        impossible = device_time.impossible(message, item.received_at)
        if impossible is not None:
            raise _Refused(Reason.IMPOSSIBLE_TIME, impossible)
    if _counter_behind(session, device, item, message, now):
        # Held, neither applied nor acknowledged: the device keeps its events until an admin
        # resets the counter (devices.fleet.session_reset), then they are applied.
        return _Result()
    # A retained message is old news replayed by the broker: no proof of life.
    if not item.retained:
        registry.touch(device, now)

    if isinstance(message, Status):
        registry.apply_status(device, message, now)
        return _Result()
    if isinstance(message, Heartbeat):
        _judge_clock(session, device, item, message, now)
        return _Result(resync=registry.apply_heartbeat(device, message, now))
    return _apply_sequenced(session, device, site, message, applied, now, handlers)


def _wrong_kind(device: Device, message: Sequenced) -> str | None:
    """Why ``message`` cannot come from a device of this kind (None when it can)."""
    kind = device.kind.value
    if isinstance(message, Birth) and message.kind != kind:
        return f"birth as {message.kind!r}, registered as {kind!r}"
    if isinstance(message, Event) and message.type not in EVENTS_OF_KIND[kind]:
        return f"a {message.type!r} event from a device registered as {kind!r}"
    if isinstance(message, State) and STATE_KEY_OF_KIND[kind] not in message.state:
        return f"a state without {STATE_KEY_OF_KIND[kind]!r} from a device registered as {kind!r}"
    return None


def _counter_behind(
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


def _judge_clock(
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


def _apply_sequenced(
    session: Session,
    device: Device,
    site: str,
    message: Sequenced,
    applied: set[tuple[str, int, int]],
    now: datetime,
    handlers: Handlers,
) -> _Result:
    key = (device.device_id, message.session, message.seq)
    ack = Ack(site, device.device_id, message.session, message.seq)
    if key in applied:
        # Applied before: the device missed our ack (or the broker redelivered); ack again.
        return _Result(ack=ack if isinstance(message, Event) else None, duplicate=True)
    gap = registry.note_sequence(device, message.session, message.seq)
    row = LedgerRow(
        device.device_id,
        message.session,
        message.seq,
        _kind(message),
        message.type if isinstance(message, Event) else None,
        _stored_payload(message),
        message.ts,
    )
    applied.add(key)
    if isinstance(message, Birth):
        registry.apply_birth(session, device, message, now)
        handlers.state(session, device, message, now)
    elif isinstance(message, State):
        if device.kind is DeviceKind.LOCKER:
            registry.apply_state(session, device, message, now)
            handlers.state(session, device, message, now)
    elif isinstance(message, Event):
        if device.kind is DeviceKind.LOCKER:
            registry.apply_locker_event(session, device, message, now)
        handlers.event(session, device, message, now)
    else:
        handlers.reply(session, device, message, now)
    return _Result(ack=ack if isinstance(message, Event) else None, resync=gap, row=row)


def _kind(message: Sequenced) -> str:
    if isinstance(message, Birth):
        return "birth"
    if isinstance(message, State):
        return "state"
    if isinstance(message, Event):
        return "event"
    return "reply"


def _stored_payload(message: Sequenced) -> dict[str, object]:
    if isinstance(message, Birth):
        return {
            "kind": message.kind,
            "firmware": message.firmware,
            "capabilities": dict(message.capabilities),
            "heartbeat_s": message.heartbeat_s,
            "state": dict(message.state),
        }
    if isinstance(message, State):
        return {"state": dict(message.state)}
    if isinstance(message, Event):
        return {"type": message.type, **message.without_health_values()}
    return {"command_id": message.command_id, "status": message.status, "reason": message.reason}


def _issue_resync(session: Session, device_id: str, now: datetime) -> DeviceCommand | None:
    """A resync command for the device, unless one is still under way."""
    pending = session.scalars(
        select(DeviceCommand.id).where(
            DeviceCommand.device_id == device_id,
            DeviceCommand.name == "resync",
            DeviceCommand.state.in_(
                [CommandState.CREATED, CommandState.SENT, CommandState.ACCEPTED]
            ),
            DeviceCommand.expires_at > now,
        )
    ).first()
    if pending is not None:
        return None
    try:
        return commands.issue(
            session, device_id, "resync", {}, now, ttl=RESYNC_TTL, requested_by=RESYNC_REQUESTED_BY
        )
    except DomainError as error:
        log.info("no resync for %s: %s", device_id, error.code)
        return None
