"""What a worker of many centres spends receiving and storing a message: its bridges alone.

``bench/mqtt_ingest.py`` measures one centre's bridge; a district's worker runs a bridge per
centre in one process (docs/scaling.md item 1), and the district bench found it spends
several times more a message there. This seeds ``--sites`` centres with one locker each in
a schema of its own, parks each bridge's persistent session at a broker of our own, queues
``--events`` events from each locker, then starts the bridges as ``linli worker`` does
(shared committers and command sender, ``kiosk.bridge_runners.district_bridge``'s objects)
and times the drain: from the start to every event applied, and the process's CPU over the
events.

    LINLI_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/harness/many_bridges.py --sites 200 --events 100

The last line is ``sites=… events=… drain_s=… msgs_per_s=… cpu_us_per_msg=… threads=… network=…``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from district import start_broker  # noqa: E402

import devices.models  # noqa: E402,F401  (every table for create_all)
import kiosk.models  # noqa: E402,F401
from booking.core.db import Base, Database  # noqa: E402
from booking.core.models.sites import Site  # noqa: E402
from devices.bridge import Bridge  # noqa: E402
from devices.commands.group import Shared  # noqa: E402
from devices.ingest.handlers import default_handlers  # noqa: E402
from devices.models.device import Device, DeviceKind  # noqa: E402
from devices.sharing import Role  # noqa: E402
from harness.schemas import fresh_schema  # noqa: E402


def seed(database: Database, sites: int) -> list[str]:
    Base.metadata.create_all(database.engine)
    slugs = [f"m{n:03d}" for n in range(sites)]
    now = datetime.now(UTC)
    with database.write() as session:
        for slug in slugs:
            site = Site(slug=slug, name_zh=f"站{slug}", name_en=slug)
            session.add(site)
            session.flush()
            session.add(
                Device(site_id=site.id, device_id=f"{slug}-d1", kind=DeviceKind.LOCKER,
                       name=f"{slug}-d1", mqtt_password_hash="$7$unused",
                       capabilities={"compartments": 8}, online=True, session_counter=1,
                       last_seq=0, created_at=now)
            )  # fmt: skip
    return slugs


def bridges(
    database: Database, url: str, slugs: list[str], shared: Shared, *, paho_threads: bool
) -> list[Bridge]:
    network = None if paho_threads else shared.network
    return [
        Bridge(
            database,
            url,
            slug,
            handlers=default_handlers(),
            role=Role.SOLE,
            committers=shared.committers,
            dispatchers=shared.dispatchers,
            network=network,
        )  # fmt: skip
        for slug in slugs
    ]


def queue_events(url: str, slugs: list[str], events: int) -> None:
    """``events`` events from each centre's locker, every one acknowledged by the broker."""
    port = int(url.rsplit(":", 1)[1])
    device = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                         client_id="bench-devices", protocol=mqtt.MQTTv311)  # fmt: skip
    device.max_inflight_messages_set(200)
    device.connect("127.0.0.1", port, keepalive=30)
    device.loop_start()
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    last = None
    for seq in range(1, events + 1):
        for slug in slugs:
            body = {"v": 1, "device": f"{slug}-d1", "session": 1, "seq": seq, "ts": ts,
                    "type": "item_present_changed", "compartment": 1 + seq % 8,
                    "present": seq % 2 == 0}  # fmt: skip
            last = device.publish(f"linli/v1/{slug}/{slug}-d1/event", json.dumps(body), qos=1)
    assert last is not None
    last.wait_for_publish(300)
    device.disconnect()
    device.loop_stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--events", type=int, default=100, help="per centre")
    parser.add_argument("--port", type=int, default=18897)
    parser.add_argument("--postgres", default=os.environ.get("LINLI_TEST_DATABASE_URL"))
    parser.add_argument("--paho-threads", action="store_true",
                        help="a paho network thread a bridge, as before the worker's one")  # fmt: skip
    args = parser.parse_args()
    if not args.postgres:
        parser.error("a worker of several centres needs PostgreSQL: --postgres URL")
    with (
        tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp,
        fresh_schema(args.postgres, "many") as db_url,
    ):
        broker = start_broker(Path(tmp), args.port)
        url = f"mqtt://127.0.0.1:{args.port}"
        database = Database(db_url, pool_size=8, max_overflow=5)
        try:
            slugs = seed(database, args.sites)
            # Each bridge's persistent session, so the broker queues what the lockers send.
            shared = Shared(database)
            parked = bridges(database, url, slugs, shared, paho_threads=args.paho_threads)
            for bridge in parked:
                bridge.start()
            for bridge in parked:
                bridge.stop(say_offline=False)
            shared.stop()
            queue_events(url, slugs, args.events)
            total = args.sites * args.events
            shared = Shared(database)
            running = bridges(database, url, slugs, shared, paho_threads=args.paho_threads)
            began, cpu = time.perf_counter(), time.process_time()
            for bridge in running:
                bridge.start(connect_timeout=0)
            threads = threading.active_count()
            deadline = began + 600
            applied = 0
            while applied < total and time.perf_counter() < deadline:
                time.sleep(0.05)
                applied = sum(b.counters().get("applied", 0) for b in running)
            drain, cpu = time.perf_counter() - began, time.process_time() - cpu
            for bridge in running:
                bridge.stop(say_offline=False)
            shared.stop()
        finally:
            database.dispose()
            broker.terminate()
            broker.wait(10)
    print(f"sites={args.sites} events={applied}/{total} drain_s={drain:.2f} "
          f"msgs_per_s={applied / drain:.0f} cpu_us_per_msg={cpu / max(applied, 1) * 1e6:.0f} "
          f"threads={threads} network={'paho' if args.paho_threads else 'one'}")  # fmt: skip


if __name__ == "__main__":
    main()
