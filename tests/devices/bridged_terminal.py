"""A simulated blood-pressure terminal (linli_sim) talking to a real bridge over the test
broker, for the tests that drive a terminal end to end (measurements, card binds)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from test_bridge import wait_for

from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.bridge import Bridge
from devices.ingest.handlers import default_handlers
from devices.models.device import Device
from linli_sim.bp_terminal import BpTerminalSim


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
    bridge = Bridge(
        database, mqtt_url, mqtt_site, clock=clock, handlers=default_handlers(), retry_delay=0.1
    ).start()
    terminal = BpTerminalSim(
        device_id, mqtt_site, mqtt_url, state_dir, time_scale=0.01, resend_interval=0.3
    )
    try:
        terminal.start()
        wait_for(lambda: online(database, device_id), "the terminal online")
        yield terminal
    finally:
        terminal.stop()
        bridge.stop()


def online(database: Database, device_id: str) -> bool:
    with database.read() as session:
        return bool(session.scalar(select(Device.online).where(Device.device_id == device_id)))
