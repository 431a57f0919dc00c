"""The worker: one per deployment, clean stops, and a web app that starts nothing of it."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from booking.core.clock import FrozenClock
from booking.core.db import Base, Database
from devices.sharing import Role, drain_cut, drain_seconds
from kiosk import leases
from kiosk.worker import LEASE_TTL, SQLITE_SINGLE, LeaseTaken, Worker, WorkerError

MQTT_URL = "mqtt://127.0.0.1:1"


class FakeBridge:
    """Stands in for devices.bridge.run: runs until told to stop and remembers that it was."""

    def __init__(self, fail: bool = False) -> None:
        self.started = threading.Event()
        self.stopped_cleanly = threading.Event()
        self.fail = fail

    def __call__(
        self, database: Database, url: str, site: str, stop: threading.Event, role: Role
    ) -> None:
        self.started.set()
        if self.fail:
            raise ConnectionError("broker unreachable")
        stop.wait()
        self.stopped_cleanly.set()


def start_worker(worker: Worker) -> tuple[threading.Event, threading.Thread, list[int]]:
    stop = threading.Event()
    status: list[int] = []
    thread = threading.Thread(target=lambda: status.append(worker.run(stop)), daemon=True)
    thread.start()
    return stop, thread, status


def test_a_second_worker_refuses_to_start_while_the_first_runs(
    database: Database, clock: FrozenClock
) -> None:
    bridge = FakeBridge()
    first = Worker(database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=bridge)
    stop, thread, _ = start_worker(first)
    assert bridge.started.wait(5)
    second = Worker(database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=FakeBridge())
    with pytest.raises(LeaseTaken, match=first.holder):
        second.run(threading.Event(), wait_for_lease=False)
    stop.set()
    thread.join(10)


def test_a_waiting_worker_starts_once_the_first_stops(
    database: Database, clock: FrozenClock
) -> None:
    first = Worker(database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=FakeBridge())
    stop1, thread1, _ = start_worker(first)
    second_bridge = FakeBridge()
    second = Worker(
        database,
        clock,
        mqtt_url=MQTT_URL,
        site="xinhua",
        bridge=second_bridge,
        lease_ttl=first.lease_ttl / 20,  # polls every second
    )
    time.sleep(0.3)
    stop2, thread2, _ = start_worker(second)
    assert not second_bridge.started.wait(0.5)
    stop1.set()
    thread1.join(10)
    assert second_bridge.started.wait(5)
    stop2.set()
    thread2.join(10)


def test_a_stopped_worker_stops_its_bridge_and_releases_the_lease(
    database: Database, clock: FrozenClock
) -> None:
    bridge = FakeBridge()
    worker = Worker(database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=bridge)
    stop, thread, status = start_worker(worker)
    assert bridge.started.wait(5)
    stop.set()
    thread.join(10)
    assert status == [0]
    assert bridge.stopped_cleanly.is_set()
    with database.write() as session:
        assert (
            leases.try_acquire(
                session,
                name=leases.WORKER_LEASE,
                holder="next",
                now=clock.now(),
                ttl=worker.lease_ttl,
            )
            is None
        )


def test_a_failing_bridge_stops_the_worker_with_an_error_status(
    database: Database, clock: FrozenClock
) -> None:
    worker = Worker(database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=FakeBridge(True))
    assert worker.run(threading.Event()) == 1


def test_the_worker_refuses_a_database_that_was_never_migrated(
    tmp_path: Path, clock: FrozenClock
) -> None:
    empty = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    worker = Worker(empty, clock, mqtt_url=None, site="xinhua")
    with pytest.raises(WorkerError, match="linli db upgrade"):
        worker.run(threading.Event())
    empty.dispose()


def test_creating_the_app_starts_no_thread_and_no_mqtt_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk import create_app

    connects: list[Any] = []
    monkeypatch.setattr(mqtt.Client, "connect", lambda self, *a, **k: connects.append(a))
    monkeypatch.setattr(mqtt.Client, "connect_async", lambda self, *a, **k: connects.append(a))
    before = set(threading.enumerate())
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}",
            "MQTT_URL": "mqtt://127.0.0.1:1883",
        }
    )
    app.test_client().get("/healthz")
    assert set(threading.enumerate()) - before == set()
    assert connects == []


def test_linli_worker_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'linli.sqlite3'}"
    database = Database(url)
    Base.metadata.create_all(database.engine)
    env = {
        **os.environ,
        "LINLI_DATABASE_URL": url,
        "LINLI_INSTANCE_PATH": str(tmp_path / "instance"),
        "LINLI_SECRET_KEY": "test",
    }
    env.pop("LINLI_MQTT_URL", None)
    linli = Path(sys.executable).parent / "linli"
    process = subprocess.Popen([str(linli), "worker"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 20
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "holds the lease" in line or time.monotonic() > deadline:
                break
        # On SQLite the worker says it is the only one.
        assert any(SQLITE_SINGLE in line for line in lines)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()
    with database.read() as session:
        held = leases.try_acquire(
            session,
            name=leases.WORKER_LEASE,
            holder="next",
            now=datetime.now(UTC),
            ttl=LEASE_TTL,
        )
    database.dispose()
    assert held is None


class SitesBridge:
    """Stands in for devices.bridge.run, remembering which centre each bridge served."""

    def __init__(self) -> None:
        self.sites: list[str] = []
        self.lock = threading.Lock()

    def __call__(
        self, database: Database, url: str, site: str, stop: threading.Event, role: Role
    ) -> None:
        with self.lock:
            self.sites.append(site)
        stop.wait()

    def served(self) -> list[str]:
        with self.lock:
            return sorted(self.sites)


def add_site(database: Database, slug: str) -> None:
    from booking.core.models.sites import Site

    with database.write() as session:
        session.add(Site(slug=slug, name_zh=f"{slug}中心", name_en=slug))


def wait_for(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_of_the_district_bridges_every_centre_and_a_new_one_within_a_minute(
    database: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk import worker as worker_module

    # The minute between looks for new centres, shortened for the test.
    monkeypatch.setattr(worker_module, "NEW_SITES_EVERY_S", 0.2)
    add_site(database, "xinhua")
    add_site(database, "yongsheng")
    bridge = SitesBridge()
    worker = Worker(database, clock, mqtt_url=MQTT_URL, bridge=bridge)
    stop, thread, status = start_worker(worker)
    assert wait_for(lambda: bridge.served() == ["xinhua", "yongsheng"])

    add_site(database, "lucheng")
    assert wait_for(lambda: bridge.served() == ["lucheng", "xinhua", "yongsheng"])
    time.sleep(0.5)
    assert bridge.served() == ["lucheng", "xinhua", "yongsheng"]  # one bridge a centre, once
    stop.set()
    thread.join(10)
    assert status == [0]


def test_a_worker_given_one_centre_bridges_that_centre_only(
    database: Database, clock: FrozenClock
) -> None:
    add_site(database, "xinhua")
    add_site(database, "yongsheng")
    bridge = SitesBridge()
    worker = Worker(database, clock, mqtt_url=MQTT_URL, site="yongsheng", bridge=bridge)
    stop, thread, _ = start_worker(worker)
    assert wait_for(lambda: bridge.served() == ["yongsheng"])
    time.sleep(0.3)
    stop.set()
    thread.join(10)
    assert bridge.served() == ["yongsheng"]


@pytest.mark.parametrize(
    ("setting", "sites"),
    [("", None), ("yongsheng", ["yongsheng"]), (" xinhua, yongsheng ,", ["xinhua", "yongsheng"])],
)
def test_linli_worker_sites_names_the_centres_a_worker_is_limited_to(
    setting: str, sites: list[str] | None
) -> None:
    from kiosk import config

    assert config.worker_sites({"WORKER_SITES": setting}) == sites


def test_a_worker_sites_setting_that_is_no_slug_is_refused_by_name() -> None:
    from kiosk import config

    with pytest.raises(config.ConfigError, match="LINLI_WORKER_SITES .* 'Xin Hua'"):
        config.worker_sites({"WORKER_SITES": "xinhua,Xin Hua"})


@pytest.mark.postgres
def test_a_worker_s_pool_does_not_grow_with_its_centres(postgres_database: Database) -> None:
    from devices.ingest.committers import COMMITTER_THREADS, REPLY_COMMITTERS
    from kiosk.ops_cli import WORKER_OTHER_CONNECTIONS, worker_database

    sizes = []
    for n in range(40):
        add_site(postgres_database, f"centre-{n}")
        if n in (1, 39):
            pool = worker_database(postgres_database, None)
            sizes.append(pool.engine.pool.size())  # type: ignore[attr-defined]
            pool.dispose()
    # The committers' and the one command sender's and the scheduler's: the same for 2
    # centres as for 40, where a commit thread and a sender a centre made it 85.
    assert sizes == [COMMITTER_THREADS + REPLY_COMMITTERS + WORKER_OTHER_CONNECTIONS] * 2


def test_a_worker_started_with_systemd_s_soft_limit_of_open_files_raises_it_to_the_hard_one(
    database: Database, clock: FrozenClock
) -> None:
    # A leader of 200 centres holds about a thousand sockets (kiosk.open_files).
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    hard = limits[1]
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
        bridge = FakeBridge()
        worker = Worker(database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=bridge)
        stop, thread, _ = start_worker(worker)
        assert bridge.started.wait(5)
        raised = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        stop.set()
        thread.join(10)
        assert raised == (hard if hard != resource.RLIM_INFINITY else 1 << 20)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, limits)


class SlowToStopBridge:
    """A bridge that takes ``stop_takes`` seconds to stop, as 200 centres' bridges take
    seconds to stop one after the other on a loaded machine; it notes when each stopped."""

    def __init__(self, stop_takes: float) -> None:
        self.stop_takes = stop_takes
        self.runs: list[dict[str, Any]] = []

    def __call__(
        self, database: Database, url: str, site: str, stop: threading.Event, role: Role
    ) -> None:
        run: dict[str, Any] = {"role": role, "started_at": time.monotonic()}
        self.runs.append(run)
        stop.wait()
        run["drain_s"] = drain_seconds(stop)
        time.sleep(self.stop_takes)
        run["stopped_at"] = time.monotonic()


@pytest.mark.postgres
def test_a_follower_that_takes_the_lock_runs_the_scheduler_before_it_swaps_its_bridges(
    postgres_database: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scheduler's jobs need the database only; waiting for a district's bridges to swap
    # first took the 200-centre bench's takeover past the 10 s it is allowed.
    from apscheduler.schedulers.background import BackgroundScheduler

    from kiosk import scheduler

    led: list[float] = []

    def start_scheduler(*_args: Any) -> BackgroundScheduler:
        led.append(time.monotonic())
        jobs = BackgroundScheduler()
        jobs.start()
        return jobs

    monkeypatch.setattr(scheduler, "start_scheduler", start_scheduler)
    add_site(postgres_database, "xinhua")
    first = Worker(postgres_database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=FakeBridge())
    stop_first, thread_first, _ = start_worker(first)
    assert wait_for(lambda: len(led) == 1)
    bridge = SlowToStopBridge(stop_takes=2.0)
    second = Worker(postgres_database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=bridge)
    stop_second, thread_second, status = start_worker(second)
    assert wait_for(lambda: bridge.runs and bridge.runs[0]["role"] is Role.FOLLOWER)
    stop_first.set()
    thread_first.join(10)
    assert wait_for(lambda: len(led) == 2 and len(bridge.runs) == 2, seconds=10)
    assert wait_for(lambda: "stopped_at" in bridge.runs[0], seconds=10)
    follower_stopped = bridge.runs[0]["stopped_at"]
    assert bridge.runs[1]["role"] is Role.SUCCESSOR
    assert led[1] < follower_stopped, "the scheduler waited for the bridges to swap"
    # The leader's bridge runs before the follower's goes, and the follower's was told to
    # finish what it received first (the broker drops a leaving shared member's in-flight).
    assert bridge.runs[1]["started_at"] < follower_stopped
    assert bridge.runs[0]["drain_s"] > 0
    stop_second.set()
    thread_second.join(15)
    assert status == [0]


class DrainingBridge:
    """A follower's bridge whose drain takes its whole allowance unless it is cut short, as a
    district's draining bridges can under load; it notes whether the drain was cut."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    def __call__(
        self, database: Database, url: str, site: str, stop: threading.Event, role: Role
    ) -> None:
        run: dict[str, Any] = {"role": role}
        self.runs.append(run)
        stop.wait()
        cut = drain_cut(stop)
        if drain_seconds(stop) and cut is not None:
            run["drain_cut"] = cut.wait(drain_seconds(stop))


@pytest.mark.postgres
def test_a_worker_told_to_stop_during_a_takeover_s_drain_stops_without_waiting_for_the_drain(
    postgres_database: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # systemd SIGKILLs a worker that takes longer than TimeoutStopSec (30 s) to stop; the drain
    # alone may take SWAP_DRAIN_S, and the leader's bridges then their own stop timeout.
    from kiosk import worker as worker_module

    monkeypatch.setattr(worker_module, "SWAP_DRAIN_S", 60.0)
    add_site(postgres_database, "xinhua")
    first_bridge = FakeBridge()
    first = Worker(postgres_database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=first_bridge)
    stop_first, thread_first, _ = start_worker(first)
    assert first_bridge.started.wait(15), "the first worker leads"  # its bridge: the lock held
    bridge = DrainingBridge()
    second = Worker(postgres_database, clock, mqtt_url=MQTT_URL, site="xinhua", bridge=bridge)
    stop_second, thread_second, status = start_worker(second)
    assert wait_for(lambda: bridge.runs and bridge.runs[0]["role"] is Role.FOLLOWER, seconds=15)
    stop_first.set()
    thread_first.join(10)
    # The lock is taken, the leader's bridge runs and the follower's drains.
    assert wait_for(lambda: len(bridge.runs) == 2, seconds=15)
    time.sleep(0.5)
    told = time.monotonic()
    stop_second.set()
    thread_second.join(8)
    assert not thread_second.is_alive(), "the worker waited for the drain"
    assert time.monotonic() - told < 5
    assert bridge.runs[0]["drain_cut"] is True
    assert status == [0]
