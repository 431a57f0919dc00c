"""Two workers committing batches of one device at the same moment (PostgreSQL, where several
workers may run): each message is applied once and the device's counters end where the
newest message left them."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from device_rows import add_device
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.commands import operations as commands
from devices.ingest import intake
from devices.ingest.apply import Inbound
from devices.ingest.batch_commit import Committed, commit_batch
from devices.ingest.reactions import Handlers
from devices.models.commands import CommandState
from devices.models.device import Device
from devices.models.messages import DeviceMessage

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
LOCKER = "locker-1"


def closed(session: int, seq: int) -> Inbound:
    body = {
        "v": 1, "device": LOCKER, "session": session, "seq": seq,
        "ts": NOW.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "type": "door_closed", "compartment": 1 + seq % 8,
    }  # fmt: skip
    return Inbound(f"linli/v1/demo/{LOCKER}/event", json.dumps(body).encode(), NOW, False)


def commit_both_at_once(
    database: Database, first: list[Inbound], second: list[Inbound]
) -> list[Committed]:
    """The two batches committed by two threads released together, as two workers would."""
    start = threading.Barrier(2)
    done: list[Committed] = []

    def commit(items: list[Inbound]) -> None:
        start.wait()
        committed = commit_batch(database, items, FrozenClock(NOW), Handlers(),
                                 retry_delay=0.05, stopping=lambda _: False)  # fmt: skip
        assert committed is not None
        done.append(committed)

    threads = [threading.Thread(target=commit, args=(batch,)) for batch in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return done


def test_the_newer_half_committed_beside_the_older_leaves_the_counter_at_the_newest(
    postgres_database: Database,
) -> None:
    add_device(postgres_database, LOCKER)
    # Several rounds, each a new session, so that the two meet in the middle at least once.
    for session in range(1, 9):
        newer = [closed(session, seq) for seq in range(51, 101)]
        older = [closed(session, seq) for seq in range(1, 51)]
        commit_both_at_once(postgres_database, newer, older)
        with postgres_database.read() as db:
            device = db.scalars(select(Device).where(Device.device_id == LOCKER)).one()
            # Read before either committed, the older batch would write its own 50 over 100.
            assert (device.session_counter, device.last_seq) == (session, 100)


def test_a_message_received_by_two_workers_at_once_is_applied_once(
    postgres_database: Database,
) -> None:
    add_device(postgres_database, LOCKER)
    first = [closed(1, seq) for seq in range(1, 61)]
    second = [closed(1, seq) for seq in range(31, 91)]  # 31..60: re-sent, each to both
    done = commit_both_at_once(postgres_database, first, second)
    assert sum(c.applied for c in done) == 90
    assert sum(c.duplicates for c in done) == 30
    # Each worker acknowledges all it received: the device forgets the re-sent ones either way.
    assert sorted(a.seq for c in done for a in c.acks) == sorted(
        list(range(1, 61)) + list(range(31, 91))
    )
    with postgres_database.read() as db:
        rows = db.scalar(select(func.count()).select_from(DeviceMessage))
        seqs = set(db.scalars(select(DeviceMessage.seq)))
    assert rows == 90 and seqs == set(range(1, 91))


def test_a_command_for_a_locker_is_issued_while_a_batch_of_its_messages_is_committing(
    postgres_database: Database,
) -> None:
    """The batch's device lock must not hold up a web request: issuing a command writes a row
    whose foreign key refers to the device, and that check must not wait for the batch."""
    add_device(postgres_database, LOCKER)
    with postgres_database.write() as batch:
        assert LOCKER in intake.lock_devices(batch, {LOCKER})
        with postgres_database.write() as web:
            # Waiting for the batch would fail here instead of hanging the test.
            web.execute(text("SET LOCAL lock_timeout = '500ms'"))
            command = commands.issue(
                web, LOCKER, "open", {"compartment": 1}, NOW, requested_by="staff:1"
            )
        assert command.state is CommandState.CREATED


def test_two_batches_of_one_locker_still_take_turns(postgres_database: Database) -> None:
    add_device(postgres_database, LOCKER)
    with postgres_database.write() as first:
        intake.lock_devices(first, {LOCKER})
        with pytest.raises(OperationalError, match="lock timeout"):
            with postgres_database.write() as second:
                second.execute(text("SET LOCAL lock_timeout = '200ms'"))
                intake.lock_devices(second, {LOCKER})
