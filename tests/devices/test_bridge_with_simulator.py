"""The bridge against the simulated firmware (linli_sim), over a broker of the test's own that
it crashes: the device's durable outbox and the server's dedupe together store every event
exactly once."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from test_bridge import add_locker, locker_row, wait_for

from booking.core.db import Database
from devices.bridge import Bridge
from devices.models.messages import DeviceMessage
from linli_sim.locker import LockerSim


def stored_event_keys(database: Database, device_id: str) -> tuple[set[tuple[int, int]], int]:
    """The (session, seq) of the device's stored events, and how many rows hold them."""
    with database.read() as session:
        where = (DeviceMessage.device_id == device_id, DeviceMessage.kind == "event")
        keys = set(session.execute(select(DeviceMessage.session, DeviceMessage.seq).where(*where)))
        rows = session.scalar(select(func.count()).select_from(DeviceMessage).where(*where))
    return {(s, q) for s, q in keys}, int(rows or 0)


def test_events_published_by_the_simulator_across_a_broker_crash_are_stored_exactly_once(
    own_mosquitto: Any, database: Database, tmp_path: Path
) -> None:
    site, device_id = "simcrash", "simcrash-locker"
    add_locker(database, site, device_id)
    bridge = Bridge(database, own_mosquitto.url, site, retry_delay=0.1).start()
    # Re-send unacknowledged events every 0.3 s rather than 5 s, to keep the test short.
    sim = LockerSim(
        device_id, site, own_mosquitto.url, tmp_path / "state", time_scale=0.01,
        resend_interval=0.3,
    )  # fmt: skip
    emitted: list[dict[str, Any]] = []

    def emit_some(count: int) -> None:
        for i in range(count):
            n = 1 + i % 8
            emitted.append(sim.emit("forced_open", compartment=n))
            emitted.append(sim.emit("door_closed", compartment=n))

    try:
        sim.start()
        wait_for(lambda: locker_row(database, device_id).online, "the simulator online")
        emit_some(20)  # some of these are in flight when the broker dies
        own_mosquitto.stop(signal.SIGKILL)
        wait_for(lambda: not sim.connected, "the simulator to notice the broker gone")
        emit_some(20)  # kept in the simulator's outbox while there is no broker
        own_mosquitto.start()
        assert sim.wait_connected(15), "the simulator did not reconnect"
        emit_some(20)

        wait_for(lambda: sim.unacked_count() == 0, "every event acknowledged", timeout=45)
        keys, rows = stored_event_keys(database, device_id)
        assert keys == {(e["session"], e["seq"]) for e in emitted}
        assert rows == len(emitted) == 120
    finally:
        sim.stop()
        bridge.stop()
