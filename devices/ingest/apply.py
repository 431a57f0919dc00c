"""Applying a batch of inbound device messages in the caller's one write transaction.

The bridge hands over raw MQTT messages; this module validates them
(:mod:`devices.protocol.messages`), refuses what breaks the contract into dead letters, applies each
(device, session, seq) once, keeps the registry current and dispatches events to the
handlers other modules register (lending, health). It returns what must happen *after*
the commit: which events to acknowledge to their devices. A seq gap opens on the device row
and waits for the late message (devices.ingest.gaps) instead of a resync at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from devices.fleet import batch_cache, registry
from devices.ingest import dead_letters, intake, judge, ledger, seen
from devices.ingest.ledger import LedgerRow, insert_rows
from devices.ingest.reactions import Handlers
from devices.models.device import Device, DeviceKind
from devices.models.faults import FaultKind
from devices.protocol import device_time
from devices.protocol.messages import (
    RETAINED_KINDS,
    Birth,
    Event,
    Heartbeat,
    Parsed,
    ProtocolError,
    Reason,
    Reply,
    Sequenced,
    State,
    Status,
    parse_topic,
)

log = logging.getLogger(__name__)

# Refused for what they say, not for how they were sent: stored as a dead letter, so an event
# among them is acknowledged, or the device would re-send it forever.
_ACKED_REFUSALS = frozenset({Reason.WRONG_KIND, Reason.IMPOSSIBLE_TIME, Reason.RETAINED})


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database is unreachable or busy (retry the batch later)
    rather than that this one message cannot be applied."""
    return isinstance(
        error, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError
    ) or (isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated)


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
    dead_letters: Counter[str] = field(default_factory=Counter)
    # Topics holding a retained copy that must not be (a refused retained event): the bridge
    # clears each after the commit.
    clear_retained: list[str] = field(default_factory=list)
    applied: int = 0
    duplicates: int = 0


@dataclass
class _Result:
    ack: Ack | None = None
    duplicate: bool = False
    # The ledger row to insert with the rest of the batch (None: nothing to store).
    row: LedgerRow | None = None


class _Refused(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


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
    return apply_batches(session, [(items, handlers)], now, isolate=isolate)[0]


def apply_batches(
    session: Session,
    batches: Sequence[tuple[Sequence[Inbound], Handlers]],
    now: datetime,
    *,
    isolate: bool = False,
) -> list[Outcome]:
    """Several bridges' batches in the caller's one transaction, each applied as
    :func:`apply_batch` applies one and with an outcome of its own.

    The devices of all of them are locked first, in one statement and one order (two
    transactions never wait for each other's devices), and their compartments and open faults
    read in two more: a statement each per device was most of what the small batches of a
    district's quiet centres cost (docs/scaling.md item 9).
    """
    checked = [intake.check(items) for items, _handlers in batches]
    devices = intake.lock_devices(session, set().union(*map(intake.devices_of, checked)))
    batch_cache.cache(session).prefetch(
        devices.keys(), compartments_of=set().union(*map(intake.devices_with_state, checked))
    )
    # The ledger rows, inserted in one executemany at the end instead of one ORM object (and
    # one flush's worth of bookkeeping) each, on the session's connection: no autoflush (the
    # registry's changes are flushed at commit). Only devices.ingest.seen reads them back, so
    # a device's rows are in before any later batch of the transaction with that device.
    rows: list[LedgerRow] = []
    outcomes: list[Outcome] = []
    seen_devices: set[str] = set()
    for batch, (_items, handlers) in zip(checked, batches, strict=True):
        mine = intake.devices_of(batch)
        if mine & seen_devices:
            insert_rows(session.connection(), rows, now)
            rows = []
        seen_devices |= mine
        outcomes.append(_apply_checked(session, batch, devices, now, handlers, isolate, rows))
    insert_rows(session.connection(), rows, now)
    return outcomes


def _apply_checked(
    session: Session,
    checked: intake.Checked,
    devices: dict[str, tuple[Device, str]],
    now: datetime,
    handlers: Handlers,
    isolate: bool,
    rows: list[LedgerRow],
) -> Outcome:
    """One batch's messages applied in order; the ledger rows of those applied are appended to
    ``rows`` for the caller to insert."""
    outcome = Outcome()
    good = [result for _, result in checked if isinstance(result, Parsed)]
    asked: set[tuple[str, int, int]] = set()
    applied = seen.applied_keys(session, good, devices, asked)
    forgotten = seen.forgotten_keys(session, devices, asked, applied)

    for item, result in checked:
        if isinstance(result, ProtocolError):
            _dead_letter(session, outcome, item, result.reason, result.detail, result.device)
            if result.reason == Reason.IMPOSSIBLE_TIME:
                _impossible_time_refused(session, outcome, item, result, devices, now)
            continue
        if forgotten and seen.sequence_key(result) in forgotten:
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
            batch_cache.forget(session)
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
            rows.append(done.row)
        if done.ack is not None:
            outcome.acks.append(done.ack)
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
        wrong = judge.wrong_kind(device, message)
        if wrong is not None:
            raise _Refused(Reason.WRONG_KIND, wrong)
        impossible = device_time.impossible(message, item.received_at)
        if impossible is not None:
            raise _Refused(Reason.IMPOSSIBLE_TIME, impossible)
    if judge.counter_behind(session, device, item, message, now):
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
        judge.judge_clock(session, device, item, message, now)
        registry.apply_heartbeat(device, message, now)
        return _Result()
    return _apply_sequenced(session, device, site, message, applied, now, handlers)


def _apply_sequenced(
    session: Session,
    device: Device,
    site: str,
    message: Sequenced,
    applied: set[tuple[str, int, int]],
    now: datetime,
    handlers: Handlers,
) -> _Result:
    device_id, msg_session, seq = device.device_id, message.session, message.seq
    key = (device_id, msg_session, seq)
    ack = Ack(site, device_id, msg_session, seq)
    if key in applied:
        # Applied before: the device missed our ack (or the broker redelivered); ack again.
        return _Result(ack=ack if isinstance(message, Event) else None, duplicate=True)
    registry.note_sequence(device, msg_session, seq, now)
    row = LedgerRow(
        device_id,
        msg_session,
        seq,
        ledger.kind_of(message),
        message.type if isinstance(message, Event) else None,
        ledger.stored_payload(message),
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
    return _Result(ack=ack if isinstance(message, Event) else None, row=row)
