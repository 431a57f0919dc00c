"""A `linli worker` of many centres (issue 18, docs/scaling.md item 1), as a real process
against real PostgreSQL and Mosquitto: its connections to the database stay a small fixed
number however many centres it bridges, and every event of every centre is still applied
exactly once, in transactions that join several centres' batches when they wait, and every
centre's commands are still sent and answered."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from test_bridge import add_locker, locker_row, wait_for
from test_bridge_with_simulator import stored_event_keys
from test_several_workers import issue_opens, start_worker  # noqa: F401 (the fixture)

from booking.core.db import Database
from devices.ingest.committers import COMMITTER_THREADS
from devices.models.commands import DeviceCommand
from devices.models.device import Device
from kiosk.ops_cli import WORKER_OTHER_CONNECTIONS, WORKER_OVERFLOW
from linli_sim.locker import LockerSim

pytestmark = pytest.mark.postgres

CENTRES = 30
EVENTS_EACH = 3
# The worker's pool at its fullest, its scheduler lock's connection and the one LISTENing for
# queued commands: fixed, where a commit thread and a sender per centre made 2 × 30 + 5.
CONNECTION_BOUND = COMMITTER_THREADS + WORKER_OTHER_CONNECTIONS + WORKER_OVERFLOW + 2


def postgres_connections(pid: int, port: int) -> int:
    """How many TCP connections to the database's ``port`` the process ``pid`` holds now."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == "01" and fields[9] in inodes:
                    count += 1  # 01: ESTABLISHED
    return count


def most_centres_in_one_transaction(database: Database) -> int:
    """The most centres whose ledger rows one transaction wrote (``xmin``: PostgreSQL's id of
    the transaction that inserted the row)."""
    with database.read() as session:
        return session.execute(
            text(
                "SELECT coalesce(max(centres), 0) FROM ("
                " SELECT count(DISTINCT d.site_id) AS centres"
                " FROM device_messages m JOIN devices d ON d.device_id = m.device_id"
                " GROUP BY m.xmin::text) AS transactions"
            )
        ).scalar_one()


def sessions_blocked_by(database: Database, holder_pid: int) -> int:
    """How many database sessions wait for a lock that the session ``holder_pid`` holds."""
    with database.engine.connect() as connection:
        return int(connection.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"),
            {"holder": holder_pid},
        ) or 0)  # fmt: skip


def test_a_worker_of_thirty_centres_keeps_few_connections_and_applies_every_event_once(
    start_worker: Any,  # noqa: F811
    postgres_database: Database,
    own_mosquitto: Any,
    tmp_path: Path,
) -> None:
    lockers = {f"centre-{n:02d}": f"centre-{n:02d}-locker" for n in range(CENTRES)}
    for site, device_id in lockers.items():
        add_locker(postgres_database, site, device_id)
    port = postgres_database.engine.url.port or 5432
    worker = start_worker("centre-00")
    most = 0
    watching = threading.Event()

    def watch() -> None:
        nonlocal most
        while not watching.wait(0.05):
            try:
                most = max(most, postgres_connections(worker.process.pid, port))
            except OSError:
                return  # the worker is gone

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    wait_for(lambda: worker.said("bridging centre centre-29"), "every centre bridged", 60)
    sims = [
        LockerSim(device_id, site, own_mosquitto.url, tmp_path / site, time_scale=0.01)
        for site, device_id in lockers.items()
    ]
    try:
        for sim in sims:
            sim.start()

        def online() -> bool:
            return all(locker_row(postgres_database, d).online for d in lockers.values())

        wait_for(online, "every centre's locker online", 60)
        emitted: dict[str, list[Any]] = {sim.device_id: [] for sim in sims}
        # Batches are joined when they wait for a committer. Left to the machine's speed, a
        # quick worker sometimes took each batch as it came (once on CI), so the lockers' rows
        # are held meanwhile, as a long transaction would hold them.
        with postgres_database.engine.connect() as holding, holding.begin():
            holder_pid = holding.scalar(text("SELECT pg_backend_pid()"))
            holding.execute(
                select(Device.device_id).where(Device.device_id.in_(lockers.values()))
                .with_for_update()
            )  # fmt: skip
            for _ in range(EVENTS_EACH):
                for sim in sims:  # the centres' events interleaved, as a district's are
                    emitted[sim.device_id].append(sim.emit("forced_open", compartment=1))
            # Once a committer waits on the held rows, every batch after it waits for a
            # committer too, or is joined by one that waits; a second for them to come in.
            wait_for(lambda: sessions_blocked_by(postgres_database, holder_pid) > 0,
                     "a committer waiting on the held lockers", 30)  # fmt: skip
            time.sleep(1.0)
        wait_for(lambda: all(sim.unacked_count() == 0 for sim in sims), "every event acked", 60)
        for device_id, events in emitted.items():
            keys, rows = stored_event_keys(postgres_database, device_id)
            assert keys == {(e["session"], e["seq"]) for e in events}, device_id
            assert rows == len(events), device_id  # once each, never twice
        # Ninety events at once are more batches than the committers: those waiting were
        # joined, several centres' batches in one transaction.
        assert most_centres_in_one_transaction(postgres_database) > 1
        # The one command sender serves every centre: each locker is told to open, and answers.
        sent = [issue_opens(postgres_database, device_id, 1)[0] for device_id in lockers.values()]

        def answered() -> bool:
            with postgres_database.read() as session:
                states = session.scalars(
                    select(DeviceCommand.state).where(DeviceCommand.id.in_(sent))
                )
                return sum(1 for state in states if state.is_final) == len(sent)

        wait_for(answered, "every centre's command answered", 60)
        time.sleep(0.5)
    finally:
        for sim in sims:
            sim.stop()
        watching.set()
    assert worker.stop() == 0
    watcher.join(5)
    print("most connections", most, "bound", CONNECTION_BOUND)
    assert 0 < most <= CONNECTION_BOUND < 2 * CENTRES
