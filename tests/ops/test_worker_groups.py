"""Workers split between groups of centres (``LINLI_WORKER_SITES``): every group has a leader
for its centres' bridges, and the deployment still runs one scheduler.

With one lock for the deployment, only the group of the scheduler's worker had leading
bridges: the other groups' centres had their commands queued and never sent, and their
devices never heard the server say `online` (kiosk/scheduler_seat.py)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text
from test_worker import start_worker
from test_worker import wait_for as wait_up_to

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from devices.sharing import Role
from kiosk import scheduler
from kiosk.worker import Worker

MQTT_URL = "mqtt://127.0.0.1:1"

pytestmark = pytest.mark.postgres


class RolesBridge:
    """Stands in for the bridges: notes each centre's current role until told to stop."""

    def __init__(self) -> None:
        self.roles: dict[str, Role] = {}

    def __call__(
        self, database: Database, url: str, site: str, stop: threading.Event, role: Role
    ) -> None:
        self.roles[site] = role
        stop.wait()


class Schedulers:
    """Stands in for ``kiosk.scheduler.start_scheduler``: how many run now, how many ran, and
    the most that ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.started = 0
        self.most = 0

    def start(self, *_args: Any) -> Any:
        schedulers = self

        class Jobs:
            def shutdown(self, wait: bool = True) -> None:
                schedulers.running -= 1

        self.running += 1
        self.started += 1
        self.most = max(self.most, self.running)
        return Jobs()


def cut_the_lock_connection(database: Database, application_name: str) -> int:
    """End the lock connection so named on the server, as a network cut or the server's idle
    timeout on a starved holder does; how many were ended."""
    with database.engine.connect() as connection:
        return int(connection.scalar(
            text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                 " WHERE application_name = :name"),
            {"name": application_name[:63]},
        ) or 0)  # fmt: skip


# A takeover waits for a lock retry (every 2 s) and a loaded CI machine.
wait_for = functools.partial(wait_up_to, seconds=10.0)


@pytest.fixture
def schedulers(monkeypatch: pytest.MonkeyPatch) -> Schedulers:
    found = Schedulers()
    monkeypatch.setattr(scheduler, "start_scheduler", found.start)
    return found


def running(worker: Worker) -> tuple[threading.Event, threading.Thread]:
    stop, thread, _status = start_worker(worker)
    return stop, thread


def test_each_group_of_workers_leads_its_own_centres_and_one_scheduler_runs(
    postgres_database: Database, clock: FrozenClock, schedulers: Schedulers
) -> None:
    with postgres_database.write() as session:
        session.add_all(Site(slug=slug, name_zh=slug, name_en=slug) for slug in ("east", "west"))
    east, west, east_too = RolesBridge(), RolesBridge(), RolesBridge()
    # The east group's first worker starts first, and so runs the scheduler.
    started = [running(Worker(postgres_database, clock, mqtt_url=MQTT_URL, sites=["east"],
                              bridge=east))]  # fmt: skip
    second_east = Worker(postgres_database, clock, mqtt_url=MQTT_URL, sites=["east"],
                         bridge=east_too)  # fmt: skip
    try:
        assert wait_for(lambda: east.roles == {"east": Role.LEADER})
        assert wait_for(lambda: schedulers.running == 1)
        started.append(running(Worker(postgres_database, clock, mqtt_url=MQTT_URL,
                                      sites=["west"], bridge=west)))  # fmt: skip
        assert wait_for(lambda: west.roles == {"west": Role.LEADER})
        # A second worker of a group shares its traffic, as in a deployment of one group.
        started.append(running(second_east))
        assert wait_for(lambda: east_too.roles == {"east": Role.FOLLOWER})
        time.sleep(2.5)  # every worker has tried for every lock by now
        assert schedulers.running == 1
        # The scheduler's worker goes: another takes the scheduler within ten seconds, and
        # the other group keeps its leader as it was.
        first_seat = schedulers.started
        stop, thread = started[0]
        stop.set()
        thread.join(15)
        assert wait_for(lambda: schedulers.running == 1 and schedulers.started > first_seat)
        assert wait_for(lambda: east_too.roles["east"] is Role.SUCCESSOR)
        assert west.roles == {"west": Role.LEADER}
    finally:
        for stop, thread in started:
            stop.set()
            thread.join(15)
    assert (schedulers.running, schedulers.most) == (0, 1)  # never two at once


def test_a_group_leader_whose_lock_connection_is_cut_steps_down_and_leads_again_alone(
    postgres_database: Database, clock: FrozenClock, schedulers: Schedulers,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    with postgres_database.write() as session:
        session.add(Site(slug="east", name_zh="east", name_en="east"))
    east = RolesBridge()
    worker = Worker(postgres_database, clock, mqtt_url=MQTT_URL, sites=["east"], bridge=east)
    stop, thread = running(worker)
    try:
        assert wait_for(lambda: east.roles == {"east": Role.LEADER} and schedulers.running == 1)
        with caplog.at_level(logging.ERROR):
            assert cut_the_lock_connection(postgres_database, f"linli-lead {worker.holder}") == 1
            # Alone in its group, it takes its lock back as the successor: no re-birth.
            assert wait_for(lambda: east.roles == {"east": Role.SUCCESSOR})
        lines = [record.getMessage() for record in caplog.records]
        assert lines[0].startswith("the connection of the lock that leads centres east failed")
        assert lines[1:] == [
            f"worker {worker.holder} lost the lock that leads centres east; it stops leading "
            "its centres and goes on sharing the device traffic"
        ]
        assert (schedulers.running, schedulers.started) == (1, 1)  # the seat's lock held on
    finally:
        stop.set()
        thread.join(15)
    assert schedulers.running == 0


@pytest.mark.parametrize("sites", [None, []], ids=["unset", "empty"])
def test_a_worker_of_every_centre_leads_its_bridges_and_the_scheduler_with_one_lock(
    postgres_database: Database, clock: FrozenClock, schedulers: Schedulers,
    sites: list[str] | None,
) -> None:  # fmt: skip
    with postgres_database.write() as session:
        session.add_all(Site(slug=slug, name_zh=slug, name_en=slug) for slug in ("east", "west"))
    bridge = RolesBridge()
    worker = Worker(postgres_database, clock, mqtt_url=MQTT_URL, sites=sites, bridge=bridge)
    stop, thread = running(worker)
    try:
        assert wait_for(lambda: bridge.roles == {"east": Role.LEADER, "west": Role.LEADER})
        assert wait_for(lambda: schedulers.running == 1)
        assert [t.name for t in threading.enumerate() if t.name == "linli-scheduler-seat"] == []
    finally:
        stop.set()
        thread.join(15)


def test_a_seat_whose_scheduler_would_not_start_lets_the_lock_go_and_tries_again(
    postgres_database: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.scheduler_seat import SchedulerSeat

    found = Schedulers()
    tries: list[int] = []

    def start_once_broken(*args: Any) -> Any:
        tries.append(1)
        if len(tries) == 1:
            raise RuntimeError("a job's store would not open")
        return found.start(*args)

    monkeypatch.setattr(scheduler, "start_scheduler", start_once_broken)
    seat = SchedulerSeat(postgres_database, clock, None, "test-seat").start()
    try:
        assert wait_for(lambda: found.running == 1)
        assert len(tries) == 2
    finally:
        seat.stop()
    assert found.running == 0
