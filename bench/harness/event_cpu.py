"""A locker event's CPU with the lending handlers, in one process (no broker, no bridge).

bench/mqtt_ingest.py measures the bridge with bare handlers; this measures what the
workers of a district spend per event once lending looks at it: ``item_present_changed``
events of lockers holding no tools (each one an unexpected item, as bench/district_fleet.py
sends), committed as a worker commits them. The best of three runs by ``time.process_time``:

    .venv/bin/python bench/harness/event_cpu.py sqlite            # batches of 500, one locker
    LINLI_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/harness/event_cpu.py postgresql    # 20 centres, one event each

On PostgreSQL it prints the CPU per event with 1, 5 and 20 centres' one-event batches in a
transaction (what the shared committers join, devices/ingest/committers.py), then a burst of
every locker's heartbeat in one transaction (lockers that came online together heartbeat
together, docs/scaling.md item 11), then what every locker's connecting at once costs a
device: a new session's birth and state, each centre's in one batch, as every locker sends
them after a broker restart or when a server starting alone says `online` (docs/protocol.md
§4, docs/scaling.md item 10).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from booking.core.clock import SystemClock  # noqa: E402
from booking.core.db import Base, Database  # noqa: E402
from devices.ingest.apply import Inbound  # noqa: E402
from devices.ingest.batch_commit import commit_batches  # noqa: E402
from devices.ingest.handlers import default_handlers  # noqa: E402

SITES, PER_SITE = 20, 20
_EMPTY_LOCKER = {"compartments": [{"n": n, "lock": "locked", "door": "closed",
                                   "item_present": False} for n in range(1, 9)]}  # fmt: skip


class Lockers:
    """Events of the seeded lockers, each locker's seqs counting up."""

    def __init__(self, devices: list[tuple[str, str]]) -> None:
        self.devices = devices
        self.seqs = dict.fromkeys((device for device, _site in devices), 0)

    def birth(self, device: str, site: str, session: int = 1) -> Inbound:
        body = {"v": 1, "device": device, "session": session, "seq": 0, "ts": _ts(),
                "kind": "locker", "firmware": "bench", "capabilities": {"compartments": 8},
                "heartbeat_s": 30, "state": _EMPTY_LOCKER}  # fmt: skip
        return Inbound(f"linli/v1/{site}/{device}/birth", json.dumps(body).encode(), _now())

    def state(self, device: str, site: str, session: int) -> Inbound:
        """The state a device sends right after its birth (seq 1, docs/protocol.md §4)."""
        body = {"v": 1, "device": device, "session": session, "seq": 1, "ts": _ts(),
                "state": _EMPTY_LOCKER}  # fmt: skip
        return Inbound(f"linli/v1/{site}/{device}/state", json.dumps(body).encode(), _now())

    def event(self, device: str, site: str) -> Inbound:
        self.seqs[device] += 1
        seq = self.seqs[device]
        body = {"v": 1, "device": device, "session": 1, "seq": seq, "ts": _ts(),
                "type": "item_present_changed", "compartment": 1 + seq % 8,
                "present": seq % 2 == 0}  # fmt: skip
        return Inbound(f"linli/v1/{site}/{device}/event", json.dumps(body).encode(), _now())

    def heartbeat(self, device: str, site: str, session: int = 1) -> Inbound:
        body = {"v": 1, "device": device, "session": session, "ts": _ts()}
        return Inbound(f"linli/v1/{site}/{device}/heartbeat", json.dumps(body).encode(), _now())


def _now() -> datetime:
    return datetime.now(UTC)


def _ts() -> str:
    moment = _now()
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def best_of_three(measure: Callable[[], tuple[float, int]]) -> float:
    """The least CPU per event (µs) of three runs of ``measure`` (CPU seconds, events)."""
    runs = [measure() for _ in range(3)]
    return min(cpu / events for cpu, events in runs) * 1e6


def run(database: Database, sites: int, per_site: int, shapes: list[tuple[str, int, int]]) -> None:
    from district_seed import seed

    district = seed(database, sites, per_site, 0)
    lockers = Lockers(district.devices)
    clock, handlers, stop = SystemClock(), default_handlers(), threading.Event()

    def commit(batches: list[list[Inbound]]) -> None:
        commit_batches(database, [(items, handlers) for items in batches], clock,
                       retry_delay=1.0, stopping=stop.wait)  # fmt: skip

    commit([[lockers.birth(device, site) for device, site in district.devices]])
    by_site: dict[str, list[str]] = {}
    for device, site in district.devices:
        by_site.setdefault(site, []).append(device)
    for label, batch_size, per_transaction in shapes:

        def measure(
            batch_size: int = batch_size, per_transaction: int = per_transaction
        ) -> tuple[float, int]:
            # Every site's batch of batch_size events, per_transaction batches a transaction.
            rounds = max(1, 600 // (len(by_site) * batch_size))
            transactions = []
            for r in range(rounds):
                batches = [[lockers.event(devices[(r * batch_size + i) % len(devices)], site)
                            for i in range(batch_size)] for site, devices in by_site.items()]  # fmt: skip
                transactions += [batches[i:i + per_transaction]
                                 for i in range(0, len(batches), per_transaction)]  # fmt: skip
            started = time.process_time()
            for transaction in transactions:
                commit(transaction)
            return time.process_time() - started, sum(len(b) for t in transactions for b in t)

        print(f"{label}: {best_of_three(measure):.0f} µs of CPU an event")
    if len(by_site) > 1:

        def burst() -> tuple[float, int]:
            # Every locker's heartbeat at once (they came online together: docs/scaling.md
            # item 11), each centre's a batch, every centre's batch in one transaction.
            batches = [[lockers.heartbeat(device, site) for device in devices]
                       for site, devices in by_site.items()]  # fmt: skip
            started = time.process_time()
            commit(batches)
            return time.process_time() - started, sum(len(b) for b in batches)

        print(
            f"a burst of every locker's heartbeat, one transaction: "
            f"{best_of_three(burst):.0f} µs of CPU a heartbeat"
        )
        rebirths = iter(range(2, 100))

        def rebirth() -> tuple[float, int]:
            # Each centre's lockers all re-born at once (a broker restart, a power cut; a
            # takeover asked for it until the thirteenth session): one batch a centre, as its
            # bridge takes them, one centre's batch a transaction.
            session = next(rebirths)
            batches = [[message for device in devices for message in
                        (lockers.birth(device, site, session), lockers.state(device, site, session))]
                       for site, devices in by_site.items()]  # fmt: skip
            started = time.process_time()
            for batch in batches:
                commit([batch])
            return time.process_time() - started, sum(len(b) for b in batches) // 2

        print(
            f"every locker's birth and state at once, one centre's batch a transaction: "
            f"{best_of_three(rebirth):.0f} µs of CPU a device"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    if args.database == "sqlite":
        database = Database(f"sqlite:///{tempfile.mkdtemp()}/events.sqlite3")
        Base.metadata.create_all(database.engine)
        run(database, 1, 1, [("sqlite, one locker, batches of 500", 500, 1)])
        return
    from harness.schemas import fresh_schema

    url = os.environ.get(
        "LINLI_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    with fresh_schema(url) as schema_url:
        database = Database(schema_url)
        try:
            run(database, SITES, PER_SITE, [
                (f"postgresql, {SITES} centres' one-event batches, {k} a transaction", 1, k)
                for k in (1, 5, 20)
            ])  # fmt: skip
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
