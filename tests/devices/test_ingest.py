"""Ingest rules, without a broker: each batch goes through devices.ingest.apply in one transaction,
exactly as the bridge's worker does it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event as orm_events
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from devices.fleet import registry
from devices.ingest import apply as ingest
from devices.ingest import dead_letters, gaps
from devices.ingest.apply import Inbound, Outcome
from devices.ingest.reactions import Handlers
from devices.models.commands import DeviceCommand
from devices.models.compartments import DoorState, LockState
from devices.models.dead_letters import DeadLetter
from devices.models.device import Device, DeviceKind
from devices.models.faults import FaultKind
from devices.models.messages import DeviceMessage
from devices.protocol.messages import Event

SITE = "nanshan"
LOCKER = "locker-a"
BP = "bp-1"


def ts(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def site(database: Database, clock: FrozenClock) -> None:
    with database.write() as session:
        site = Site(slug=SITE, name_zh="南山站", name_en="Nanshan")
        other = Site(slug="beishan", name_zh="北山站", name_en="Beishan")
        session.add_all([site, other])
        session.flush()
        for device_id, kind, site_id in (
            (LOCKER, DeviceKind.LOCKER, site.id),
            (BP, DeviceKind.BP_TERMINAL, site.id),
            ("locker-b", DeviceKind.LOCKER, other.id),
        ):
            session.add(
                Device(
                    site_id=site_id,
                    device_id=device_id,
                    kind=kind,
                    name=device_id,
                    mqtt_password_hash="$7$unused",
                    capabilities={},
                    online=False,
                    created_at=clock.now(),
                )
            )


class Feed:
    """Builds protocol messages for one device and applies them as bridge batches."""

    def __init__(self, database: Database, clock: FrozenClock, handlers: Handlers) -> None:
        self.database = database
        self.clock = clock
        self.handlers = handlers

    def envelope(self, device: str, session: int, seq: int) -> dict[str, Any]:
        return {
            "v": 1,
            "device": device,
            "session": session,
            "seq": seq,
            "ts": ts(self.clock.now()),
        }

    def birth(self, session: int, seq: int = 0, device: str = LOCKER, **state: Any) -> Inbound:
        compartments = state.get("compartments") or [
            {"n": n, "lock": "locked", "door": "closed", "item_present": True} for n in (1, 2)
        ]
        body = {
            **self.envelope(device, session, seq),
            "kind": "locker",
            "firmware": "linli-sim 0.1.0",
            "capabilities": {"compartments": len(compartments)},
            "heartbeat_s": 30,
            "state": {"compartments": compartments},
        }
        return self.raw(f"linli/v1/{SITE}/{device}/birth", body)

    def event(
        self, session: int, seq: int, type_: str, device: str = LOCKER, **fields: Any
    ) -> Inbound:
        body = {**self.envelope(device, session, seq), "type": type_, **fields}
        return self.raw(f"linli/v1/{SITE}/{device}/event", body)

    def state(self, session: int, seq: int, compartments: list[dict[str, Any]]) -> Inbound:
        body = {**self.envelope(LOCKER, session, seq), "state": {"compartments": compartments}}
        return self.raw(f"linli/v1/{SITE}/{LOCKER}/state", body)

    def status(self, session: int, state: str, device: str = LOCKER) -> Inbound:
        body = {
            "v": 1,
            "device": device,
            "session": session,
            "state": state,
            "ts": ts(self.clock.now()),
        }
        return self.raw(f"linli/v1/{SITE}/{device}/status", body)

    def heartbeat(self, session: int, device: str = LOCKER) -> Inbound:
        body = {"v": 1, "device": device, "session": session, "ts": ts(self.clock.now())}
        return self.raw(f"linli/v1/{SITE}/{device}/heartbeat", body)

    def raw(self, topic: str, body: Any) -> Inbound:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        return Inbound(topic, payload, self.clock.now())

    def apply(self, *items: Inbound) -> Outcome:
        with self.database.write() as session:
            return ingest.apply_batch(session, list(items), self.clock.now(), self.handlers)


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


@pytest.fixture
def feed(site: None, database: Database, clock: FrozenClock, handlers: Handlers) -> Feed:
    return Feed(database, clock, handlers)


def device(database: Database, device_id: str = LOCKER) -> Device:
    with database.read() as session:
        found = session.scalars(select(Device).where(Device.device_id == device_id)).one()
        session.expunge(found)  # keep its loaded values after the read's rollback
        return found


def compartment(database: Database, n: int) -> Any:
    with database.read() as session:
        found = {c.n: c for c in registry.compartments_of(session, LOCKER)}[n]
        session.expunge(found)
        return found


def count(database: Database, model: Any) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- availability ---------------------------------------------------------------------------------


def test_a_birth_marks_the_device_online_with_its_firmware_and_compartments(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.status(4, "online"), feed.birth(4))
    locker = device(database)
    assert (locker.online, locker.online_changed_at, locker.firmware) == (
        True,
        clock.now(),
        "linli-sim 0.1.0",
    )
    assert (locker.session_counter, locker.last_seq, locker.heartbeat_s) == (4, 0, 30)
    assert compartment(database, 2).lock is LockState.LOCKED


def test_a_last_will_of_the_current_session_marks_the_device_offline(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(feed.status(4, "offline"))
    assert device(database).online is False


def test_a_late_will_from_an_older_session_is_ignored(feed: Feed, database: Database) -> None:
    feed.apply(feed.birth(4))
    feed.apply(feed.birth(5))
    feed.apply(feed.status(4, "offline"))
    assert device(database).online is True
    assert device(database).session_counter == 5


def test_three_missed_heartbeats_mark_a_device_offline(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    clock.advance(timedelta(seconds=89))
    feed.apply(feed.heartbeat(4))
    clock.advance(timedelta(seconds=90))
    with database.write() as session:
        assert registry.mark_silent_devices_offline(session, clock.now()) == []
    clock.advance(timedelta(seconds=1))
    with database.write() as session:
        silent = registry.mark_silent_devices_offline(session, clock.now())
        assert [d.device_id for d in silent] == [LOCKER]
    assert device(database).online is False


def test_the_silent_device_job_loads_only_the_devices_it_finds_silent(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    """It runs every 30 s over every online device of a district: it judges them by three
    columns, and loaded each whole, that was most of its CPU (docs/benchmarks.md)."""
    feed.apply(feed.birth(4))
    clock.advance(timedelta(seconds=91))
    with database.write() as session:
        heard = session.scalars(select(Device).where(Device.device_id == BP)).one()
        heard.online, heard.last_seen_at = True, clock.now()
    loaded: list[str] = []

    def note(target: Device, _context: object) -> None:
        loaded.append(target.device_id)

    orm_events.listen(Device, "load", note)
    try:
        with database.write() as session:
            silent = registry.mark_silent_devices_offline(session, clock.now())
    finally:
        orm_events.remove(Device, "load", note)
    assert [d.device_id for d in silent] == [LOCKER]
    assert set(loaded) == {LOCKER}
    assert device(database, BP).online is True


# --- refused messages -----------------------------------------------------------------------------

GOOD_EVENT = {
    "v": 1,
    "device": LOCKER,
    "session": 4,
    "seq": 1,
    "ts": "2026-11-24T01:30:00.000Z",
    "type": "door_closed",
    "compartment": 1,
}


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (f"linli/v1/{SITE}/{LOCKER}/event", b"{not json", "not_json"),
        (f"linli/v1/{SITE}/{LOCKER}/event", b"\xff\xfe", "not_json"),
        (f"linli/v1/{SITE}/{LOCKER}/event", json.dumps(GOOD_EVENT).encode("utf-16"), "not_json"),
        (f"linli/v1/{SITE}/{LOCKER}/event", json.dumps(GOOD_EVENT).encode("utf-8-sig"), "not_json"),
        (f"linli/v1/{SITE}/{LOCKER}/event", b"[" * 4000 + b"]" * 4000, "not_json"),
        (
            f"linli/v1/{SITE}/{LOCKER}/event",
            json.dumps({**GOOD_EVENT, "pad": "x" * 9000}).encode(),
            "too_large",
        ),
        (
            f"linli/v1/{SITE}/{LOCKER}/event",
            json.dumps({**GOOD_EVENT, "compartment": "one"}).encode(),
            "schema",
        ),
        (
            f"linli/v1/{SITE}/{LOCKER}/event",
            json.dumps({**GOOD_EVENT, "ts": "2026-02-31T01:30:00Z"}).encode(),
            "schema",
        ),
        (
            f"linli/v1/{SITE}/{LOCKER}/event",
            json.dumps({**GOOD_EVENT, "device": "locker-z"}).encode(),
            "spoofed",
        ),
        (
            f"linli/v1/{SITE}/ghost/event",
            json.dumps({**GOOD_EVENT, "device": "ghost"}).encode(),
            "unknown_device",
        ),
        (
            f"linli/v1/{SITE}/locker-b/event",
            json.dumps({**GOOD_EVENT, "device": "locker-b"}).encode(),
            "wrong_site",
        ),
        (f"linli/v1/{SITE}/{LOCKER}/gossip", b"{}", "unknown_topic"),
    ],
)
def test_a_bad_message_is_dead_lettered_counted_and_changes_nothing_else(
    feed: Feed, database: Database, topic: str, payload: bytes, reason: str
) -> None:
    outcome = feed.apply(feed.raw(topic, payload))
    assert outcome.dead_letters == {reason: 1}
    assert outcome.acks == []
    with database.read() as session:
        letter = session.scalars(select(DeadLetter)).one()
        assert (letter.reason, letter.topic) == (reason, topic)
        assert len(letter.payload) <= 8192
        assert dead_letters.counts(session) == {reason: 1}
    assert count(database, DeviceMessage) == 0
    assert device(database).last_seen_at is None


def test_a_birth_of_the_wrong_kind_is_dead_lettered(feed: Feed, database: Database) -> None:
    outcome = feed.apply(feed.birth(1, device=BP))
    assert outcome.dead_letters == {"wrong_kind": 1}
    assert device(database, BP).online is False


# --- exactly once, order ----------------------------------------------------------------------------


def test_a_duplicate_event_is_applied_once_and_acknowledged_again(
    feed: Feed, database: Database, handlers: Handlers
) -> None:
    seen: list[int] = []
    handlers.register("door_opened", lambda s, d, e, now: seen.append(e.seq))
    feed.apply(feed.birth(4))
    opened = feed.event(4, 1, "door_opened", compartment=1, command_id=None)
    first = feed.apply(opened)
    again = feed.apply(opened, opened)
    assert seen == [1]
    assert count(database, DeviceMessage) == 2  # the birth and the event
    assert [(a.session, a.seq) for a in first.acks + again.acks] == [(4, 1)] * 3
    assert again.duplicates == 2


def test_an_event_of_an_older_session_redelivered_after_a_new_session_began_is_applied_once(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.birth(4))
    opened = feed.event(4, 1, "door_opened", compartment=1, command_id=None)
    feed.apply(opened)
    feed.apply(feed.birth(5))
    again = feed.apply(opened)
    assert (again.applied, again.duplicates) == (0, 1)
    assert count(database, DeviceMessage) == 3  # two births and the event


def test_a_late_event_below_the_highest_seq_seen_is_applied_and_a_repeat_of_it_is_not(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(feed.event(4, 3, "door_closed", compartment=1))
    late = feed.event(4, 2, "door_opened", compartment=2, command_id=None)
    first, again = feed.apply(late), feed.apply(late)
    assert (first.applied, again.applied, again.duplicates) == (1, 0, 1)


def test_an_out_of_order_event_does_not_roll_compartment_state_back(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.birth(4))
    closed = feed.event(4, 2, "door_closed", compartment=1)
    opened = feed.event(4, 1, "door_opened", compartment=1, command_id=None)
    feed.apply(closed, opened)
    assert compartment(database, 1).door is DoorState.CLOSED


def test_an_older_state_snapshot_does_not_overwrite_a_newer_event(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(feed.event(4, 3, "item_present_changed", compartment=2, present=False))
    stale = [{"n": 2, "lock": "locked", "door": "closed", "item_present": True}]
    feed.apply(feed.state(4, 2, stale))
    assert compartment(database, 2).item_present is False


def test_a_full_state_that_repeats_a_door_still_outranks_an_older_event_of_it(
    feed: Feed, database: Database
) -> None:
    """The state at seq 5 writes nothing of compartment 1 (it says what the row says), yet the
    late door_opened of seq 3 is older news than it, though newer than the door_closed."""
    feed.apply(feed.birth(4))
    feed.apply(feed.event(4, 2, "door_closed", compartment=1))
    both = [{"n": n, "lock": "locked", "door": "closed", "item_present": True} for n in (1, 2)]
    feed.apply(feed.state(4, 5, both))
    feed.apply(feed.event(4, 3, "door_opened", compartment=1, command_id=None))
    assert compartment(database, 1).door is DoorState.CLOSED


def test_a_full_state_writes_only_the_compartment_it_changes(
    feed: Feed, database: Database
) -> None:
    feed.apply(feed.birth(4, compartments=[
        {"n": n, "lock": "locked", "door": "closed", "item_present": True} for n in range(1, 9)
    ]))  # fmt: skip
    rows_written: list[int] = []

    def note(_conn: Any, _cursor: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        if statement.startswith("UPDATE device_compartments"):
            rows_written.append(len(params) if many else 1)

    after = [{"n": n, "lock": "unlocked" if n == 4 else "locked", "door": "closed",
              "item_present": True} for n in range(1, 9)]  # fmt: skip
    orm_events.listen(database.engine, "before_cursor_execute", note)
    try:
        feed.apply(feed.state(4, 1, after))
    finally:
        orm_events.remove(database.engine, "before_cursor_execute", note)
    assert rows_written == [1]
    assert compartment(database, 4).lock is LockState.UNLOCKED
    assert compartment(database, 3).lock is LockState.LOCKED


def test_a_state_that_leaves_out_a_compartment_still_guards_the_ones_it_lists(
    feed: Feed, database: Database
) -> None:
    """Compartment 2 is not in the state, so the state cannot speak for it; compartment 1 is."""
    feed.apply(feed.birth(4))
    feed.apply(feed.state(4, 5, [{"n": 1, "lock": "locked", "door": "closed",
                                  "item_present": True}]))  # fmt: skip
    feed.apply(
        feed.event(4, 3, "door_opened", compartment=1, command_id=None),
        feed.event(4, 4, "door_opened", compartment=2, command_id=None),
    )
    assert compartment(database, 1).door is DoorState.CLOSED
    assert compartment(database, 2).door is DoorState.OPEN


def settle_gaps(database: Database, clock: FrozenClock) -> list[tuple[str, str]]:
    """The scheduler's gap job, run once now: the commands it issued."""
    with database.write() as session:
        return [(c.device_id, c.name) for c in gaps.settle_gaps(session, clock.now())]


def test_a_gap_in_seq_issues_one_resync_command_once_the_wait_is_over(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    outcome = feed.apply(
        feed.event(4, 3, "door_closed", compartment=1),
        feed.event(4, 5, "door_closed", compartment=2),
    )
    assert outcome.applied == 2
    # 1, 2 and 4 may be on their way through another worker (tests/devices/test_sequence_gaps.py).
    assert count(database, DeviceCommand) == 0
    clock.advance(gaps.REORDER_WAIT)
    assert settle_gaps(database, clock) == [(LOCKER, "resync")]
    assert count(database, DeviceCommand) == 1


def test_events_of_an_older_session_are_applied_without_a_resync(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(5))
    outcome = feed.apply(feed.event(4, 7, "door_closed", compartment=1))
    assert outcome.applied == 1
    assert device(database).session_counter == 5
    clock.advance(gaps.REORDER_WAIT)
    assert settle_gaps(database, clock) == []
    assert count(database, DeviceCommand) == 0


# --- faults, readings, handlers ---------------------------------------------------------------------


def test_a_jam_opens_a_fault_that_a_later_unjammed_state_closes(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(feed.event(4, 1, "jammed", compartment=2, command_id=None))
    feed.apply(feed.event(4, 2, "jammed", compartment=2, command_id=None))
    with database.read() as session:
        faults = registry.open_faults(session, LOCKER)
        assert [(f.kind, f.compartment) for f in faults] == [(FaultKind.JAMMED, 2)]
    clock.advance(timedelta(minutes=5))
    feed.apply(
        feed.state(4, 3, [{"n": 2, "lock": "locked", "door": "closed", "item_present": True}])
    )
    with database.read() as session:
        assert registry.open_faults(session, LOCKER) == []


def test_a_door_left_open_fault_closes_when_the_door_closes(feed: Feed, database: Database) -> None:
    feed.apply(feed.birth(4))
    feed.apply(feed.event(4, 1, "door_left_open", compartment=1, open_seconds=60))
    feed.apply(feed.event(4, 2, "door_closed", compartment=1))
    with database.read() as session:
        assert registry.open_faults(session, LOCKER) == []


def test_a_reading_reaches_its_handler_but_its_values_are_not_stored(
    feed: Feed, database: Database, handlers: Handlers
) -> None:
    received: list[Event] = []
    handlers.register("reading", lambda s, d, e, now: received.append(e))
    reading = feed.event(
        2,
        1,
        "reading",
        device=BP,
        systolic=148,
        diastolic=86,
        mean_arterial_pressure=106.7,
        unit="mmHg",
        pulse=72,
        measured_at="2026-11-24T01:30:00.000Z",
        card_id="C0012345",
        flags={
            "body_movement": False,
            "cuff_too_loose": False,
            "irregular_pulse": True,
            "pulse_out_of_range": False,
            "improper_position": False,
        },
    )
    outcome = feed.apply(reading)
    assert received[0].fields["systolic"] == 148
    assert [(a.device, a.seq) for a in outcome.acks] == [(BP, 1)]
    with database.read() as session:
        stored = session.scalars(select(DeviceMessage)).one()
        session.expunge(stored)
    text = json.dumps(stored.payload)
    assert stored.event_type == "reading"
    for value in ("148", "86", "106.7", "72", "irregular_pulse"):
        assert value not in text


def test_a_handler_that_fails_dead_letters_its_event_and_keeps_the_rest_of_the_batch(
    feed: Feed, database: Database, handlers: Handlers
) -> None:
    def explode(*args: Any) -> None:
        raise RuntimeError("lending module bug")

    handlers.register("door_opened", explode)
    feed.apply(feed.birth(4))
    batch = [
        feed.event(4, 1, "door_opened", compartment=1, command_id=None),
        feed.event(4, 2, "door_closed", compartment=1),
    ]
    with pytest.raises(RuntimeError):
        feed.apply(*batch)
    with database.write() as session:
        outcome = ingest.apply_batch(session, batch, datetime.now(UTC), handlers, isolate=True)
    assert outcome.dead_letters == {"handler_error": 1}
    assert [a.seq for a in outcome.acks] == [1, 2]
    assert compartment(database, 1).door is DoorState.CLOSED
    assert count(database, DeviceMessage) == 2  # the birth and door_closed
