"""The worker's one command sender never waits behind a reply's transaction.

A command's row is held by the transaction that records the device's answer. In the loaded
200-centre district that transaction waited seconds for its locker's row, and the sender,
recording the command as ``sent``, waited behind it: every centre's next command waited too
(docs/benchmarks.md, twenty-seventh session). The sender now marks the rows nobody holds and
comes back for the others. PostgreSQL only: SQLite serialises its writers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from device_rows import add_device
from sqlalchemy import select, text

from booking.core.clock import SystemClock
from booking.core.db import Database
from devices.commands import operations as commands
from devices.commands.dispatcher import CommandDispatcher
from devices.commands.group import DispatcherGroup
from devices.models.commands import CommandState, DeviceCommand

CLOCK = SystemClock()


def issue_open(database: Database, device: str) -> str:
    with database.write() as session:
        return commands.issue(
            session, device, "open", {"compartment": 1}, CLOCK.now(),
            ttl=timedelta(seconds=30), requested_by="kiosk:resident:1",
        ).id  # fmt: skip


@contextmanager
def held(database: Database, command_id: str) -> Iterator[None]:
    """The command's row locked as a reply's transaction locks it, until the block ends."""
    with database.engine.connect() as connection, connection.begin():
        connection.execute(
            select(DeviceCommand.id).where(DeviceCommand.id == command_id).with_for_update()
        )
        yield


def command(database: Database, command_id: str) -> DeviceCommand:
    with database.read() as session:
        row = session.get(DeviceCommand, command_id)
        assert row is not None
        session.expunge(row)
        return row


def test_a_held_command_is_left_for_later_and_the_others_are_marked_at_once(
    postgres_database: Database,
) -> None:
    add_device(postgres_database, "locker-1")
    first, second = (issue_open(postgres_database, "locker-1") for _ in range(2))
    with held(postgres_database, first), postgres_database.write() as session:
        # Waiting for the held row would end in this error, not in a pass.
        session.execute(text("SET LOCAL lock_timeout = '2s'"))
        still = commands.mark_sent_unless_held(
            session, [first, second, second, "no-such-command"], CLOCK.now()
        )
    assert still == {first}
    assert command(postgres_database, second).state is CommandState.SENT
    assert command(postgres_database, second).send_count == 2  # published twice
    assert command(postgres_database, first).state is CommandState.CREATED


def test_another_centres_command_goes_out_while_a_reply_holds_one(
    postgres_database: Database,
) -> None:
    for site in ("east", "west"):
        add_device(postgres_database, f"{site}-locker", site=site)
    group = DispatcherGroup(postgres_database, fallback_poll=0.1)
    connected = threading.Event()
    connected.set()
    published: dict[str, float] = {}

    def send(topic: str, payload: bytes) -> threading.Event:
        published[topic.split("/")[3]] = time.monotonic()
        acked = threading.Event()
        acked.set()  # the broker's PUBACK
        return acked

    def lane(site: str) -> CommandDispatcher:
        return CommandDispatcher(
            postgres_database, site, CLOCK, client_id=f"server-{site}", send=send,
            connected=connected, count=lambda name, n: None, group=group,
        )  # fmt: skip

    lanes = {site: lane(site) for site in ("east", "west")}
    for lane in lanes.values():
        lane.start()
    try:
        east = issue_open(postgres_database, "east-locker")
        with held(postgres_database, east):
            lanes["east"].wake()
            deadline = time.monotonic() + 10
            while "east-locker" not in published and time.monotonic() < deadline:
                time.sleep(0.01)
            assert "east-locker" in published
            time.sleep(0.3)  # the sender has tried to mark it by now, and met the lock
            west = issue_open(postgres_database, "west-locker")
            woken = time.monotonic()
            lanes["west"].wake()
            deadline = woken + 10
            while "west-locker" not in published and time.monotonic() < deadline:
                time.sleep(0.01)
            # Before the fix the sender waited here until the lock went, 10 s later.
            assert published.get("west-locker", deadline) - woken < 5.0
            assert command(postgres_database, east).state is CommandState.CREATED
        deadline = time.monotonic() + 10
        # Each marked a little after its publication (west's too: the test may get here first).
        while {command(postgres_database, c).state for c in (east, west)} != {CommandState.SENT}:
            assert time.monotonic() < deadline, "a command was never marked"
            time.sleep(0.05)
        assert command(postgres_database, east).send_count == 1
    finally:
        for lane in lanes.values():
            lane.stop()
        group.stop()
