"""Round-trip time of server→device commands: issue → queued → taken and published by the
bridge → device → reply → recorded.

Runs the production path end to end: ``devices.commands.operations.send_and_wait`` in this process (as a
web request would: it issues the command with its outbox row and waits, woken on PostgreSQL
by the final state's notice, devices/commands/outcomes.py), the worker's
``devices.bridge.Bridge`` taking the command from the outbox (woken by NOTIFY on PostgreSQL,
by a datagram on SQLite), publishing it and recording the replies, and a simulated locker
(linli_sim) on the broker, each in its own process. Each sample is measured from just before
``issue`` to the moment the waiter sees ``done`` in the database.

    .venv/bin/python bench/command_rtt.py                 # own Mosquitto (else embedded amqtt)
    .venv/bin/python bench/command_rtt.py --broker mqtt://127.0.0.1:1883 --count 1000

The last line is exactly ``p50_ms=… p99_ms=… failed=…``.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

# This checkout's code, not the one the virtualenv's editable install points at (a worktree
# of an older commit, compared with it, would otherwise run the newer code).
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "firmware-sim"), str(ROOT / "bench")]

from harness.schemas import fresh_schema  # noqa: E402

from booking.core.clock import SystemClock  # noqa: E402
from booking.core.db import Base, Database  # noqa: E402
from booking.core.models.sites import Site  # noqa: E402
from devices.bridge import Bridge  # noqa: E402
from devices.commands import waiting  # noqa: E402
from devices.fleet import provisioning  # noqa: E402
from devices.models.commands import DeviceCommand  # noqa: E402
from devices.models.device import Device  # noqa: E402
from devices.models.messages import DeviceMessage  # noqa: E402
from kiosk.broker import EmbeddedBroker, MosquittoBroker, RunningBroker, mosquitto_binary  # noqa: E402
from linli_sim.locker import LockerSim  # noqa: E402

COMPARTMENTS = 8


def run_bridge(
    database_url: str, url: str, site: str, batch_wait: float | None, stop: Any, ready: Any
) -> None:
    """The worker's role, in its own process as in production (``linli worker``), with the
    batches committed in a child process of its own, as there."""
    database = Database(database_url)
    options: dict[str, Any] = {
        "client_id": f"linli-server-{site}",
        "commit_process_handlers": "devices.ingest.handlers:default_handlers",
    }
    if batch_wait is not None:
        options["batch_wait"] = batch_wait
    bridge = Bridge(database, url, site, **options).start()
    ready.set()
    try:
        stop.wait()
    finally:
        bridge.stop()
        database.dispose()


def run_locker(url: str, site: str, device_id: str, state_dir: str, stop: Any, opened: Any) -> None:
    """linli_sim's locker, in its own process as the real one is its own machine.

    Its motor runs a thousand times faster than nominal (unlocking in 0.5 ms) and it relocks
    an unopened compartment after 10 ms, so the figure is the software's and the broker's,
    not the motor's; its durable store and outbox work as always.
    """
    locker = LockerSim(
        device_id, site, url, state_dir, COMPARTMENTS, time_scale=0.001, relock_after_s=10
    )
    locker.start()
    try:
        stop.wait()
    finally:
        opened.value = len(locker.executed_commands)
        locker.stop()


def wait_online(database: Database, device_id: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.read() as session:
            if session.scalar(select(Device.online).where(Device.device_id == device_id)):
                return
        time.sleep(0.02)
    raise TimeoutError(f"{device_id} did not come online through the bridge in {timeout} s")


def start_broker(data_dir: Path) -> RunningBroker:
    """Our own Mosquitto, configured as the demo's (kiosk.broker: Nagle off, as in
    deploy/mosquitto); else amqtt."""
    if mosquitto_binary() is None:
        return EmbeddedBroker().start()
    return MosquittoBroker(data_dir).start()


def breakdown(database: Database, skip: int) -> dict[str, float]:
    """Median of each leg, from the rows' own timestamps (device times from its replies)."""
    with database.read() as session:
        rows = session.scalars(select(DeviceCommand).order_by(DeviceCommand.created_at)).all()
        replies = {
            (str(m.payload["command_id"]), str(m.payload["status"])): m
            for m in session.scalars(select(DeviceMessage).where(DeviceMessage.kind == "reply"))
        }
        # The bridge records `sent` a little after the broker's PUBACK (not to queue that
        # write in front of the reply's), so the first leg runs from the issue to the device's
        # acceptance: the queue, the bridge's wake-up and take, the publish and the broker.
        legs: dict[str, list[float]] = {"to_device": [], "device_work": [], "reply_recorded": []}
        for command in rows[skip:]:
            accepted = replies.get((command.id, "accepted"))
            done = replies.get((command.id, "done"))
            if accepted is None or done is None:
                continue
            legs["to_device"].append((accepted.device_ts - command.created_at).total_seconds())
            legs["device_work"].append((done.device_ts - accepted.device_ts).total_seconds())
            legs["reply_recorded"].append((done.received_at - done.device_ts).total_seconds())
    return {k: statistics.median(v) * 1000 for k, v in legs.items() if v}


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", help="mqtt:// URL (default: start our own broker)")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a fresh SQLite file)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--ttl", type=float, default=5.0, help="command ttl in seconds")
    parser.add_argument(
        "--bridge-batch-wait",
        type=float,
        help="the bridge's longest batch window in seconds (default: the bridge's own)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.database and args.database.startswith("postgresql"):
        # A schema of its own, dropped afterwards: tables left in the database's own schema
        # by an older checkout would not have this one's columns.
        with fresh_schema(args.database) as url:
            args.database = url
            return run(args)
    return run(args)


def run(args: argparse.Namespace) -> int:

    workdir = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    broker: RunningBroker | None = None
    url = args.broker
    if url is None:
        broker = start_broker(workdir / "broker")
        url = broker.url
    database = Database(args.database or f"sqlite:///{workdir / 'bench.sqlite3'}")
    Base.metadata.create_all(database.engine)
    run_id = uuid.uuid4().hex[:8]
    site_slug, device_id = f"bench-{run_id}", f"bench-{run_id}-locker"
    clock = SystemClock()
    with database.write() as session:
        site = Site(slug=site_slug, name_zh="基准站", name_en="Bench centre")
        session.add(site)
        session.flush()
        provisioning.register_device(session, site.id, device_id, "locker", "bench", clock.now())

    # Three processes, as in production: this one plays the web request, one the worker's
    # bridge, one the locker; in one process they would fight over the GIL and the figure
    # would measure that instead.
    spawn = multiprocessing.get_context("spawn")
    stop, bridge_ready = spawn.Event(), spawn.Event()
    opened = spawn.Value("i", 0)
    bridge = spawn.Process(
        target=run_bridge,
        args=(database.url, url, site_slug, args.bridge_batch_wait, stop, bridge_ready),
    )
    locker = spawn.Process(
        target=run_locker,
        args=(url, site_slug, device_id, str(workdir / "locker"), stop, opened),
    )
    bridge.start()
    if not bridge_ready.wait(30):
        raise TimeoutError("the bridge process did not start")
    locker.start()
    samples: list[float] = []
    failed = 0
    try:
        wait_online(database, device_id)
        for i in range(args.warmup + args.count):
            started = time.perf_counter()
            outcome = waiting.send_and_wait(
                database,
                device_id,
                "open",
                {"compartment": i % COMPARTMENTS + 1},
                ttl=timedelta(seconds=args.ttl),
                requested_by="system:bench",
                clock=clock,
            )
            elapsed_ms = (time.perf_counter() - started) * 1000
            if i < args.warmup:
                continue
            samples.append(elapsed_ms)
            if not outcome.ok:
                failed += 1
                print(f"command {i}: {outcome.result} {outcome.reason}", file=sys.stderr)
    finally:
        stop.set()
        locker.join(15)
        bridge.join(15)
        if broker is not None:
            broker.stop()
    phases = breakdown(database, skip=args.warmup)
    database.dispose()
    shutil.rmtree(workdir, ignore_errors=True)

    print(f"broker={url} database={database.url.split(':')[0]} commands={len(samples)}")
    print(f"load_average={os.getloadavg()[0]:.1f} cpus={os.cpu_count()}")
    print("p50 by phase (ms): " + " ".join(f"{k}={v:.1f}" for k, v in phases.items()))
    print(
        f"mean_ms={statistics.fmean(samples):.1f} max_ms={max(samples):.1f} "
        f"opened={opened.value - args.warmup}"
    )
    print(
        f"p50_ms={percentile(samples, 0.50):.1f} p99_ms={percentile(samples, 0.99):.1f} "
        f"failed={failed}"
    )
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
