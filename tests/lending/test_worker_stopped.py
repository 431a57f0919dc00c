"""With the worker stopped, no locker door opens: the kiosk offers no locker, says so plainly
and sends the resident to the counter; and a command issued in the moment the worker died is
never published, not even when the worker comes back after its expiry. Against real
Mosquitto, the simulated locker (linli_sim) and the worker (``linli worker``'s class, its
bridge reading the test's clock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from kiosk_helpers import Resident
from lending_centre import Station, build_station
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending.models.door_sessions import DoorSession
from booking.lending.models.loans import Loan
from booking.lending.models.tools import Item, ItemStatus
from devices.bridge import Bridge
from devices.fleet import link_status
from devices.ingest.handlers import default_handlers
from devices.models.commands import DeviceCommand
from devices.models.device import Device
from devices.models.links import LinkState
from devices.models.outbox import CommandOutbox
from devices.sharing import Role
from kiosk.extensions import database as app_database
from kiosk.worker import Worker
from linli_sim.locker import LockerSim
from tests import broker_waits

# 15 s rather than the shared default: the worker thread starts its scheduler and bridge first.
wait_until = partial(broker_waits.wait_until, timeout=15.0)


@dataclass
class RunningWorker:
    """``linli worker`` in a thread: the scheduler and the bridge, holding the lease."""

    worker: Worker
    stop: threading.Event
    thread: threading.Thread

    def halt(self) -> None:
        self.stop.set()
        self.thread.join(20)
        assert not self.thread.is_alive()


def start_worker(database: Database, clock: FrozenClock, url: str) -> RunningWorker:
    def bridge(db: Database, url: str, site: str, stop: threading.Event, role: Role) -> None:
        # As the default bridge, but in this process with the test's clock (the locker reads
        # it too), so that a command's expiry means the same to both.
        bridge = Bridge(db, url, site, handlers=default_handlers(), clock=clock, role=role).start()
        stop.wait()
        bridge.stop()

    stop = threading.Event()
    worker = Worker(database, clock, mqtt_url=url, site=SITE.slug, bridge=bridge)
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    return RunningWorker(worker, stop, thread)


@dataclass
class Centre:
    app: Flask
    station: Station
    database: Database
    clock: FrozenClock
    locker: LockerSim
    url: str

    def rows(self, model: type, *where: Any) -> list[Any]:
        with self.database.read() as session:
            found = list(session.scalars(select(model).where(*where)))
            for row in found:
                session.expunge(row)
            return found

    def opens(self) -> list[DeviceCommand]:
        return self.rows(DeviceCommand, DeviceCommand.name == "open")

    def no_open_executed(self) -> bool:
        """The locker executed no ``open`` (a status or resync from its connection may run)."""
        others = {c.id for c in self.rows(DeviceCommand, DeviceCommand.name != "open")}
        return set(self.locker.executed_commands) <= others

    def link(self) -> link_status.LinkStatus:
        with self.database.read() as session:
            return link_status.link_status(session, site=self.station.slug, now=self.clock.now())

    def resident(self) -> Resident:
        resident = Resident(self.app, self.station.phones[0])
        resident.sign_in()
        return resident


class _Site:
    slug = ""


SITE = _Site()


@pytest.fixture
def centre(
    app: Flask, clock: FrozenClock, mqtt_url: str, mqtt_site: str, tmp_path: Path
) -> Iterator[Centre]:
    with app.app_context():
        database = app_database()
        station = build_station(database, clock, slug=mqtt_site)
    app.config["SITE"] = station.slug
    SITE.slug = station.slug
    with database.write() as session:
        session.scalars(select(Device)).one().online = False
    locker = LockerSim(
        station.locker, mqtt_site, mqtt_url, tmp_path / "sim", time_scale=0.1, clock=clock.now
    )
    yield Centre(app, station, database, clock, locker, mqtt_url)
    locker.stop()


def test_with_the_worker_stopped_the_kiosk_offers_no_locker_and_no_door_opens(
    centre: Centre,
) -> None:
    running = start_worker(centre.database, centre.clock, centre.url)
    centre.locker.start()
    wait_until(lambda: centre.rows(Device)[0].online, "the locker's birth recorded")
    wait_until(lambda: centre.link().live, "the worker's link recorded")
    resident = centre.resident()
    assert "button-borrow" in resident.page("/kiosk/tools")

    running.halt()  # the worker is stopped
    assert centre.link().reason is link_status.LinkDown.NOT_RUNNING
    page = resident.page("/kiosk/tools")
    assert "button-borrow" not in page
    assert 'id="lockers-down"' in page
    drill = page.split(f'id="tool-{centre.station.drill_type}"')[1].split("</li>")[0]
    assert "tool-count-counter" in drill  # ask the staff at the service desk
    response = resident.post(f"/kiosk/tools/{centre.station.drill_type}/borrow")
    assert response.headers["Location"].endswith("/kiosk/tools")
    refused = resident.page(response.headers["Location"])
    assert "not connected" in refused or "未连接" in refused
    assert centre.rows(DoorSession) == [] and centre.opens() == []
    assert centre.no_open_executed()
    assert centre.locker.compartment(1)["lock"] == "locked"


def test_a_command_issued_as_the_worker_died_is_never_sent_even_when_it_comes_back(
    centre: Centre,
) -> None:
    running = start_worker(centre.database, centre.clock, centre.url)
    centre.locker.start()
    wait_until(lambda: centre.rows(Device)[0].online, "the locker's birth recorded")
    wait_until(lambda: centre.link().live, "the worker's link recorded")
    running.halt()
    # Killed rather than stopped: its last beat still says connected, for a few seconds.
    with centre.database.write() as session:
        link_status.record_link(session, site=centre.station.slug, client_id="linli-server",
                                state=LinkState.CONNECTED, now=centre.clock.now())  # fmt: skip
    resident = centre.resident()
    response = resident.post(f"/kiosk/tools/{centre.station.drill_type}/borrow")
    page = response.headers["Location"]
    assert "/kiosk/tools/pickup/" in page
    [command] = centre.opens()
    assert centre.rows(CommandOutbox)  # waiting for a bridge; none runs

    # The worker comes back after the command's expiry: it drops the command unsent.
    centre.clock.advance(timedelta(seconds=11))
    running = start_worker(centre.database, centre.clock, centre.url)
    try:
        wait_until(lambda: not centre.rows(CommandOutbox), "the queued command taken")
        state = wait_until(
            lambda: (
                (s := resident.client.get(page + "/status").get_json())["phase"] == "failed" and s
            ),
            "the kiosk to say the pickup failed",
        )
        assert state["open"] is False and state["message"]
    finally:
        running.halt()
    assert centre.no_open_executed()
    assert centre.locker.compartment(1)["lock"] == "locked"
    assert centre.rows(DeviceCommand, DeviceCommand.id == command.id)[0].send_count == 0
    assert centre.rows(Loan) == []
    drill = centre.rows(Item, Item.id == centre.station.drills[0])[0]
    assert drill.status is ItemStatus.AVAILABLE
