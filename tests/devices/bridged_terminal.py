"""A simulated blood-pressure terminal or kiosk reader (linli_sim) talking to a real bridge
over the test broker, for the tests that drive one end to end (measurements, card binds,
a kiosk reader's cards and codes)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from test_bridge import wait_for

from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.bridge import Bridge
from devices.ingest.handlers import default_handlers
from devices.models.device import Device
from linli_sim.bp_terminal import BpTerminalSim
from linli_sim.device import DeviceSim
from linli_sim.kiosk_reader import KioskReaderSim

Sim = TypeVar("Sim", bound=DeviceSim)


@contextmanager
def bridged(
    database: Database, clock: FrozenClock, mqtt_url: str, mqtt_site: str, sim: Sim
) -> Iterator[Sim]:
    """The registered device ``sim`` plays, online through the bridge with every handler."""
    bridge = Bridge(
        database, mqtt_url, mqtt_site, clock=clock, handlers=default_handlers(), retry_delay=0.1
    ).start()
    try:
        sim.start()
        wait_for(lambda: online(database, sim.device_id), f"{sim.device_id} online")
        yield sim
    finally:
        sim.stop()
        bridge.stop()


@contextmanager
def bridged_terminal(
    database: Database,
    clock: FrozenClock,
    mqtt_url: str,
    mqtt_site: str,
    device_id: str,
    state_dir: Path,
) -> Iterator[BpTerminalSim]:
    """The registered terminal ``device_id``, online through the bridge with every handler."""
    terminal = BpTerminalSim(
        device_id, mqtt_site, mqtt_url, state_dir, time_scale=0.01, resend_interval=0.3
    )
    with bridged(database, clock, mqtt_url, mqtt_site, terminal) as running:
        yield running


@contextmanager
def bridged_reader(
    database: Database, clock: FrozenClock, mqtt_url: str, mqtt_site: str, device_id: str,
    state_dir: Path,
) -> Iterator[KioskReaderSim]:  # fmt: skip
    """The registered kiosk reader ``device_id``, online through the bridge."""
    reader = KioskReaderSim(
        device_id, mqtt_site, mqtt_url, state_dir, resend_interval=0.3, clock=clock.now
    )
    with bridged(database, clock, mqtt_url, mqtt_site, reader) as running:
        yield running


def online(database: Database, device_id: str) -> bool:
    with database.read() as session:
        return bool(session.scalar(select(Device.online).where(Device.device_id == device_id)))
