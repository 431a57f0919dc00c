"""A seq gap waits for its late messages before the device is asked to resync (docs/protocol.md
§3; Sparkplug's reorder timeout). Several workers share a device's messages, so the later one
often commits first: the gap is noted on the device row and the scheduler's job
(devices.ingest.gaps) closes it when the ledger holds the missing messages, or asks for one
resync once REORDER_WAIT has passed. The time is the shared test clock's."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from device_rows import T0, add_device
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_bridge import DEADLINE_S, TestDevice, add_locker, event_seqs, locker_row, wait_for
from test_concurrent_batches import commit_both_at_once
from test_ingest import LOCKER, Feed, device, site  # noqa: F401 (site: a fixture)

from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.bridge import Bridge
from devices.ingest import gaps
from devices.ingest.apply import Inbound
from devices.ingest.batch_commit import commit_batch
from devices.ingest.gaps import REORDER_WAIT
from devices.ingest.reactions import Handlers
from devices.models.commands import DeviceCommand
from devices.models.device import Device
from devices.models.messages import DeviceMessage
from devices.models.outbox import CommandOutbox
from devices.sharing import Role
from kiosk import scheduler

JUST = timedelta(milliseconds=1)
COMPARTMENT = {"n": 1, "lock": "locked", "door": "closed", "item_present": True}


@pytest.fixture
def feed(site: None, database: Database, clock: FrozenClock) -> Feed:  # noqa: F811
    """Batches applied as one worker's bridge applies them (the other's come the same way)."""
    return Feed(database, clock, Handlers())


def settle(database: Database, clock: FrozenClock) -> list[str]:
    """The scheduler's job, run once now: the devices it asked for a resync."""
    with database.write() as session:
        return [command.device_id for command in gaps.settle_gaps(session, clock.now())]


def resyncs_queued(database: Database) -> list[str]:
    """The resync commands waiting in the outbox for the command sender to publish."""
    with database.read() as session:
        return list(
            session.scalars(
                select(DeviceCommand.device_id)
                .join(CommandOutbox, CommandOutbox.command_id == DeviceCommand.id)
                .where(DeviceCommand.name == "resync")
            )
        )


def gap_of(database: Database, device_id: str = LOCKER) -> tuple[int, int, int] | None:
    found = device(database, device_id)
    if found.gap_session is None:
        return None
    assert found.gap_first_seq is not None and found.gap_last_seq is not None
    return (found.gap_session, found.gap_first_seq, found.gap_last_seq)


def closed(feed: Feed, seq: int, session: int = 4) -> Inbound:
    return feed.event(session, seq, "door_closed", compartment=1)


def test_a_gap_filled_within_the_wait_asks_for_no_resync(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    # Seq 2 commits first: seq 1 went to the other worker, which applies it a moment later.
    outcome = feed.apply(closed(feed, 2))
    assert (outcome.applied, gap_of(database)) == (1, (4, 1, 1))
    assert settle(database, clock) == []
    clock.advance(timedelta(milliseconds=300))
    feed.apply(closed(feed, 1))
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == []
    assert resyncs_queued(database) == []
    assert gap_of(database) is None
    assert device(database).last_seq == 2


def test_a_gap_not_filled_after_the_wait_asks_for_exactly_one_resync(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 3), closed(feed, 5))  # 1, 2 and 4 are missing
    assert gap_of(database) == (4, 1, 4)
    clock.advance(REORDER_WAIT - JUST)
    assert settle(database, clock) == []
    clock.advance(JUST)
    assert settle(database, clock) == [LOCKER]
    assert gap_of(database) is None
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == []
    assert resyncs_queued(database) == [LOCKER]


def test_a_message_still_missing_among_late_ones_asks_for_the_resync(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 4))
    feed.apply(closed(feed, 3))
    feed.apply(closed(feed, 1))  # seq 2 never comes
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == [LOCKER]


def test_the_wait_counts_from_the_first_missing_message_not_the_latest(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 2))
    clock.advance(REORDER_WAIT - timedelta(seconds=1))
    feed.apply(closed(feed, 4))  # widens the gap to 1..3
    assert gap_of(database) == (4, 1, 3)
    clock.advance(timedelta(seconds=1))
    assert settle(database, clock) == [LOCKER]


def test_a_new_session_closes_the_gap_since_its_birth_carries_the_whole_state(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 3))
    assert gap_of(database) == (4, 1, 2)
    feed.apply(feed.birth(5))
    assert gap_of(database) is None
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == []
    assert resyncs_queued(database) == []


def test_a_birth_after_the_gap_closes_it_since_it_carries_the_whole_state(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 3))
    feed.apply(feed.birth(4, seq=4))  # as after the server's `online` (docs/protocol.md §4)
    assert gap_of(database) is None
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == []


def test_a_birth_inside_the_gap_leaves_it_open(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4, seq=0), closed(feed, 5))
    feed.apply(feed.birth(4, seq=2))  # seqs 1, 3 and 4 still missing
    assert gap_of(database) == (4, 1, 4)
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == [LOCKER]


def test_a_new_sessions_message_ahead_of_its_birth_opens_a_gap_of_that_session(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 3))
    feed.apply(closed(feed, 2, session=5))  # session 5's birth and state are still on their way
    assert gap_of(database) == (5, 0, 1)
    feed.apply(feed.birth(5), feed.state(5, 1, [COMPARTMENT]))
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == []


def test_a_heartbeat_of_a_session_not_seen_begin_waits_for_its_birth(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(feed.heartbeat(5))  # the birth of session 5 went to the other worker
    assert gap_of(database) == (5, 0, 0)
    feed.apply(feed.birth(5))
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == []
    assert resyncs_queued(database) == []


def test_a_heartbeat_whose_birth_never_comes_asks_for_a_resync_after_the_wait(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.heartbeat(5))
    assert settle(database, clock) == []
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == [LOCKER]
    assert resyncs_queued(database) == [LOCKER]


def test_a_device_offline_when_the_wait_ends_is_asked_once_it_is_heard_again(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 3))
    feed.apply(feed.status(4, "offline"))
    clock.advance(REORDER_WAIT)
    assert settle(database, clock) == []  # it would refuse the command
    assert gap_of(database) == (4, 1, 2)
    feed.apply(feed.heartbeat(4))
    assert settle(database, clock) == [LOCKER]


def test_the_workers_scheduled_job_settles_the_gaps_on_the_workers_clock(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 2))
    scheduler.set_runtime(database, clock, channels={})
    scheduler.settle_sequence_gaps()
    assert resyncs_queued(database) == []
    clock.advance(REORDER_WAIT)
    scheduler.settle_sequence_gaps()
    assert resyncs_queued(database) == [LOCKER]


def test_the_job_takes_no_writer_while_no_gap_is_open(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    """It runs every 2 s: on SQLite a write transaction each time would take the one writer
    from the kiosk's bookings for nothing, so with no gap it only reads."""
    feed.apply(feed.birth(4))
    feed.apply(closed(feed, 1))
    scheduler.set_runtime(database, clock, channels={})
    job = threading.Thread(target=scheduler.settle_sequence_gaps, daemon=True)
    with database.write():  # a booking holding the writer
        job.start()
        job.join(timeout=DEADLINE_S)
        assert not job.is_alive()


def test_events_of_an_older_session_open_no_gap(
    feed: Feed, database: Database, clock: FrozenClock
) -> None:
    feed.apply(feed.birth(5))
    feed.apply(closed(feed, 7, session=4))  # re-sent from the device's outbox
    assert gap_of(database) is None


# --- two workers on PostgreSQL ------------------------------------------------------------------


def event(device_id: str, seq: int) -> Inbound:
    body = {
        "v": 1, "device": device_id, "session": 1, "seq": seq,
        "ts": T0.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "type": "door_closed", "compartment": 1 + seq % 8,
    }  # fmt: skip
    return Inbound(f"linli/v1/demo/{device_id}/event", json.dumps(body).encode(), T0, False)


def commit_alone(database: Database, items: list[Inbound]) -> None:
    committed = commit_batch(database, items, FrozenClock(T0), Handlers(),
                             retry_delay=0.05, stopping=lambda _: False)  # fmt: skip
    assert committed is not None and committed.applied == len(items)


def open_gaps(database: Database) -> int:
    with database.read() as session:
        found = session.scalar(
            select(func.count()).select_from(Device).where(Device.gap_session.is_not(None))
        )
        return int(found or 0)


@pytest.mark.postgres
def test_two_workers_sharing_each_devices_messages_ask_for_no_resync(
    postgres_database: Database,
) -> None:
    """Round robin: each device's even seqs go to one worker and its odd seqs to the other, and
    the two commit at the same moment while the scheduler's job runs. Each batch alone skips
    every other seq, so gaps open whichever commits first; the job, locking devices in the
    batches' order, takes turns with them and asks for nothing."""
    lockers = [f"locker-{n}" for n in range(4)]
    for locker in lockers:
        add_device(postgres_database, locker)
    clock = FrozenClock(T0)  # the workers' clock (commit_both_at_once) stands at T0 too
    done = threading.Event()
    job_errors: list[BaseException] = []

    def run_the_job() -> None:
        try:
            while not done.wait(0.005):
                settle(postgres_database, clock)
        except BaseException as error:  # a deadlock would end here
            job_errors.append(error)

    job = threading.Thread(target=run_the_job)
    job.start()
    committed = []
    try:
        for start in range(0, 200, 20):
            evens = [event(d, s) for s in range(start, start + 20, 2) for d in lockers]
            odds = [event(d, s) for s in range(start + 1, start + 20, 2) for d in lockers]
            committed += commit_both_at_once(postgres_database, odds, evens)
    finally:
        done.set()
        job.join(30)
    assert job_errors == []
    assert len(committed) == 20 and sum(c.retries for c in committed) == 0
    # One more round, one worker after the other, to see the gap the later half leaves open.
    commit_alone(postgres_database, [event(d, 201) for d in lockers])
    assert open_gaps(postgres_database) == len(lockers)
    commit_alone(postgres_database, [event(d, 200) for d in lockers])

    clock.advance(REORDER_WAIT)
    assert settle(postgres_database, clock) == []
    assert open_gaps(postgres_database) == 0
    assert resyncs_queued(postgres_database) == []
    with postgres_database.read() as session:
        rows = session.scalar(select(func.count()).select_from(DeviceMessage))
    assert rows == 202 * len(lockers)


class LaggingDatabase(Database):
    """The follower's own pool (another worker's, as in production) whose write transactions,
    once armed, wait at the door until the test lets them in: a worker whose commits lag
    behind what it receives, so that the other commits the device's later messages first."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.armed, self.knocked, self.open = (threading.Event() for _ in range(3))

    @contextmanager
    def write(self) -> Iterator[Session]:
        if self.armed.is_set():
            self.knocked.set()
            self.open.wait(DEADLINE_S)
        with super().write() as session:
            yield session


@pytest.mark.postgres
def test_two_bridges_sharing_a_devices_messages_over_the_broker_ask_for_no_resync(
    postgres_database: Database, mqtt_url: str, mqtt_site: str
) -> None:
    """Two workers' bridges share the site's traffic through Mosquitto ($share, round robin).
    The follower's commits lag until the leader has committed the device's later messages,
    so the gap is real; then the follower's messages fill it and the job, run once the wait
    is over, asks for nothing."""
    device_id = f"{mqtt_site}-locker"
    add_locker(postgres_database, mqtt_site, device_id)
    # The bridges' shared clock, started at the system's time: the test device stamps its
    # messages with that, and the ingest refuses times ahead of the server's.
    clock = FrozenClock(datetime.now(UTC))
    lagging = LaggingDatabase(postgres_database.url)
    bridges = [
        Bridge(database, mqtt_url, mqtt_site, clock=clock, role=role,
               client_id=f"linli-server-{mqtt_site}-{role.value}")
        for role, database in ((Role.LEADER, postgres_database), (Role.FOLLOWER, lagging))
    ]  # fmt: skip
    for bridge in bridges:
        bridge.start()
    lagging.armed.set()
    locker = TestDevice(mqtt_url, mqtt_site, device_id, session=1)
    try:
        locker.birth()
        seqs = [locker.event("door_closed", compartment=1) for _ in range(6)]
        wait_for(lagging.knocked.is_set, "the follower's share received, its commit waiting")
        wait_for(lambda: gap_of(postgres_database, device_id), "later messages committed first")
        lagging.open.set()
        wait_for(lambda: locker.pending() == 0, "every event acknowledged")
        wait_for(lambda: locker_row(postgres_database, device_id).firmware, "the birth stored")
        assert event_seqs(postgres_database, device_id) == seqs
        clock.advance(REORDER_WAIT)
        assert settle(postgres_database, clock) == []
        assert gap_of(postgres_database, device_id) is None
        assert resyncs_queued(postgres_database) == []
    finally:
        lagging.open.set()
        locker.stop()
        for bridge in bridges:
            bridge.stop()
        lagging.dispose()
