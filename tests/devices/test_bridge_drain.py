"""A follower's bridge making way for its worker's leader (kiosk/worker.py) finishes what it
received before it goes. The broker drops what was in flight to a clean session's shared
subscription when that session ends, so each event a stopping follower had received and not
yet committed was gone from the broker's view: its device re-sent it only after its backoff,
and before that the gap rule asked the device to resync (docs/scaling.md item 5)."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy.orm import Session
from test_bridge import TestDevice, add_locker, event_seqs, wait_for

from booking.core.db import Database
from devices.bridge import Bridge
from devices.ingest.reactions import Handlers
from devices.models.device import Device
from devices.protocol.messages import Event
from devices.sharing import Role

EVENTS = 12


def slow_handlers() -> Handlers:
    """Each event takes a while to apply, so most are still waiting when the bridge stops."""
    handlers = Handlers()

    def slow(session: Session, device: Device, event: Event, now: datetime) -> None:
        time.sleep(0.1)

    handlers.register("door_closed", slow)
    return handlers


def received_all_then_stop(
    mqtt_url: str,
    site: str,
    database: Database,
    *,
    drain_s: float,
    events: int = EVENTS,
    drain_cut: threading.Event | None = None,
) -> tuple[TestDevice, list[int]]:
    device_id = f"{site}-locker"
    add_locker(database, site, device_id)
    bridge = Bridge(database, mqtt_url, site, role=Role.FOLLOWER, handlers=slow_handlers(),
                    batch_size=1).start()  # fmt: skip
    locker = TestDevice(mqtt_url, site, device_id, session=1)
    assert bridge.connected.is_set()
    sent = [locker.event("door_closed", compartment=1) for _ in range(events)]
    wait_for(lambda: bridge.counters()["received"] == events, "every event at the bridge")
    assert bridge.counters().get("applied", 0) < events // 2, "the bridge did not fall behind"
    bridge.stop(say_offline=False, drain_s=drain_s, drain_cut=drain_cut)
    return locker, sent


def test_a_draining_follower_commits_and_acks_everything_it_received_before_it_goes(
    mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    locker, sent = received_all_then_stop(mqtt_url, mqtt_site, database, drain_s=15.0)
    try:
        assert event_seqs(database, locker.device_id) == sent
        # Acked without a single re-send: nothing had to come again.
        wait_for(lambda: locker.pending() == 0, "every ack at the locker", timeout=5)
    finally:
        locker.stop()


def test_a_follower_stopped_at_once_leaves_what_it_had_not_committed_to_the_devices_resends(
    mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    locker, sent = received_all_then_stop(mqtt_url, mqtt_site, database, drain_s=0.0)
    try:
        stored = event_seqs(database, locker.device_id)
        assert stored == sent[: len(stored)] and len(stored) < EVENTS
        # The rest waits in the locker's outbox for its next round of re-sends.
        assert locker.pending() >= EVENTS - len(stored)
    finally:
        locker.stop()


def test_a_drain_cut_short_stops_the_bridge_leaving_the_rest_to_the_devices_resends(
    mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    # Its worker was told to stop (a SIGTERM) during the drain: 40 events at 0.1 s each would
    # take 4 s, and a district's bridges waiting out their whole drain kept systemd waiting.
    cut = threading.Event()
    timer = threading.Timer(0.3, cut.set)
    started = time.monotonic()
    timer.start()
    locker, sent = received_all_then_stop(
        mqtt_url, mqtt_site, database, drain_s=15.0, events=40, drain_cut=cut
    )
    try:
        assert time.monotonic() - started < 3.0
        stored = event_seqs(database, locker.device_id)
        assert stored == sent[: len(stored)] and len(stored) < 40
        assert locker.pending() >= 40 - len(stored)
    finally:
        timer.cancel()
        locker.stop()
