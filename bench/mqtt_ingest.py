"""How fast the bridge stores device events, against what a bare paho subscriber can receive.

Both runs drain the same N QoS 1 events queued at the broker for an offline persistent
session, so only receiving (and, for the bridge, validating, storing, acking) is timed.

    .venv/bin/python bench/mqtt_ingest.py [--broker mqtt://host:port] [-n 20000]

Last line: ``ingest_msgs_per_s=… ceiling_msgs_per_s=… ratio=… lost=…``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

import devices.models  # noqa: F401  (every table for create_all)
from booking.core.db import Base, Database
from booking.core.models.sites import Site
from devices.bridge import Bridge
from devices.models.device import Device, DeviceKind
from devices.models.messages import DeviceMessage
from devices.mqtt_client import BrokerUrl
from kiosk.broker import EmbeddedBroker, MosquittoBroker, RunningBroker, mosquitto_binary

HANDLERS = "devices.ingest.reactions:Handlers"


def client(url: str, client_id: str, clean: bool) -> mqtt.Client:
    broker = BrokerUrl(url)
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=mqtt.MQTTv311,
    )
    if broker.username:
        c.username_pw_set(broker.username, broker.password)
    return c


def connect(c: mqtt.Client, url: str) -> None:
    broker = BrokerUrl(url)
    c.connect(broker.host, broker.port, keepalive=30)


def publish_events(url: str, site: str, device_id: str, n: int) -> None:
    """N events from one device, all acknowledged by the broker before returning."""
    device = client(url, device_id, clean=True)
    device.max_inflight_messages_set(100)
    connect(device, url)
    device.loop_start()
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    topic = f"linli/v1/{site}/{device_id}/event"
    last = None
    for seq in range(1, n + 1):
        body = {"v": 1, "device": device_id, "session": 1, "seq": seq, "ts": ts}
        body.update({"type": "item_present_changed", "compartment": 1 + seq % 8, "present": True})
        last = device.publish(topic, json.dumps(body).encode(), qos=1)
    assert last is not None
    last.wait_for_publish(120)
    device.disconnect()
    device.loop_stop()


def park_session(url: str, client_id: str, site: str) -> None:
    """Create the persistent session (and subscription) that the broker queues events for."""
    c = client(url, client_id, clean=False)
    done = threading.Event()
    c.on_subscribe = lambda *args: done.set()
    connect(c, url)
    c.loop_start()
    c.subscribe(f"linli/v1/{site}/+/event", qos=1)
    done.wait(10)
    c.disconnect()
    c.loop_stop()


def ceiling(url: str, n: int) -> tuple[float, float]:
    site, client_id = f"b{uuid.uuid4().hex[:8]}", f"bench-bare-{uuid.uuid4().hex[:6]}"
    park_session(url, client_id, site)
    publish_events(url, site, f"{site}-dev", n)
    received = 0
    finished = threading.Event()

    def on_message(*args: object) -> None:
        nonlocal received
        received += 1
        if received >= n:
            finished.set()

    broker = BrokerUrl(url)
    c = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
    )
    if broker.username:
        c.username_pw_set(broker.username, broker.password)
    connected_at: list[float] = []
    c.on_message = on_message
    c.on_connect = lambda *args: connected_at.append(time.perf_counter())
    cpu_start = time.process_time()
    c.connect(broker.host, broker.port, keepalive=30)
    c.loop_start()
    finished.wait(300)
    elapsed, cpu = time.perf_counter() - connected_at[0], time.process_time() - cpu_start
    c.disconnect()
    c.loop_stop()
    return received / elapsed, cpu / max(received, 1)


def ingest(url: str, n: int, workdir: Path) -> tuple[float, int, float, float]:
    site = f"b{uuid.uuid4().hex[:8]}"
    device_id = f"{site}-dev"
    database = Database(f"sqlite:///{workdir / 'bench.sqlite3'}")
    Base.metadata.create_all(database.engine)
    with database.write() as session:
        row = Site(slug=site, name_zh="基准站", name_en="Bench")
        session.add(row)
        session.flush()
        session.add(
            Device(
                site_id=row.id,
                device_id=device_id,
                kind=DeviceKind.LOCKER,
                name=device_id,
                mqtt_password_hash="$7$unused",
                capabilities={"compartments": 8},
                online=True,
                session_counter=1,
                last_seq=0,
                created_at=datetime.now(UTC),
            )
        )
    client_id = f"linli-server-{site}"
    park_session(url, client_id, site)
    publish_events(url, site, device_id, n)

    def stored() -> int:
        with database.read() as session:
            return int(session.scalar(select(func.count()).select_from(DeviceMessage)) or 0)

    # As the worker runs it: batches committed in a process of their own (bare handlers:
    # this measures the bridge, not what lending or health do with an event).
    bridge = Bridge(database, url, site, client_id=client_id, commit_process_handlers=HANDLERS)
    cpu_start, children_start = time.process_time(), _children_cpu()
    bridge.start()  # starts the commit process, waits until it is ready, then connects
    deadline = time.perf_counter() + 600
    while bridge.counters().get("applied", 0) + bridge.counters().get("duplicates", 0) < n:
        if time.perf_counter() > deadline:
            break
        time.sleep(0.01)
    finished = datetime.now(UTC)
    cpu = time.process_time() - cpu_start
    assert bridge.connected_at is not None
    # Timed from the connection, like the bare subscriber: the messages drain from then on.
    elapsed = (finished - bridge.connected_at).total_seconds()
    bridge.stop()
    children = _children_cpu() - children_start  # the commit process, start-up included
    count = stored()
    database.dispose()
    return count / elapsed, n - count, cpu / max(count, 1), children / max(count, 1)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", help="mqtt:// URL (default: own Mosquitto, else embedded)")
    parser.add_argument("-n", type=int, default=20000, help="events per run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started: RunningBroker | None = None
        url = args.broker
        if url is None:
            if mosquitto_binary() is not None:
                started = MosquittoBroker(workdir / "mosquitto").start()
            else:
                started = EmbeddedBroker().start()
            url = started.url
        try:
            ceiling_rate, ceiling_cpu = ceiling(url, args.n)
            print(f"bare paho subscriber: {ceiling_rate:.0f} msgs/s", file=sys.stderr)
            ingest_rate, lost, ingest_cpu, commit_cpu = ingest(url, args.n, workdir)
        finally:
            if started is not None:
                started.stop()
    # CPU time of this process per message: what each side costs, whatever else the machine
    # runs (the rates swing with the load; these move much less).
    print(
        f"load_average={os.getloadavg()[0]:.1f} cpu_us_per_msg: "
        f"ingest={ingest_cpu * 1e6:.0f} (+ commit process {commit_cpu * 1e6:.0f}, its "
        f"start-up included) ceiling={ceiling_cpu * 1e6:.0f}"
    )
    print(
        f"ingest_msgs_per_s={ingest_rate:.0f} ceiling_msgs_per_s={ceiling_rate:.0f} "
        f"ratio={ingest_rate / ceiling_rate:.2f} lost={lost}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
