"""A district worker's bridges share one network thread (devices/network_loop.py) instead of a
paho thread each. Over a real broker: each bridge still hears its own lockers and acks after
the commit, reconnects by itself when its connection breaks or the broker restarts, keeps its
connection alive through silence, leaves with a clean DISCONNECT (so its Will does not say the
server went away), and one client that cannot connect holds up none of the others."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from test_bridge import TestDevice, add_locker, event_seqs, host_port, wait_for

from booking.core.db import Database
from devices.bridge import Bridge
from devices.mqtt_client import Client
from devices.network_loop import MISC_EVERY_S, NetworkLoop
from devices.protocol.messages import server_status_topic
from devices.sharing import Role


@pytest.fixture
def network() -> Iterator[NetworkLoop]:
    loop = NetworkLoop().start()
    yield loop
    loop.stop()


def bridge_on(
    network: NetworkLoop, database: Database, url: str, site: str, **options: Any
) -> Bridge:
    bridge = Bridge(database, url, site, network=network, **options).start()
    assert bridge.connected.is_set(), f"the bridge of {site} did not connect"
    return bridge


@contextlib.contextmanager
def bridged_locker(
    network: NetworkLoop, database: Database, url: str, site: str
) -> Iterator[tuple[Bridge, TestDevice]]:
    """A centre's bridge on ``network`` and its locker, born and heard."""
    device_id = f"{site}-locker"
    add_locker(database, site, device_id)
    bridge = bridge_on(network, database, url, site)
    locker = TestDevice(url, site, device_id, session=1)
    try:
        locker.birth()
        yield bridge, locker
    finally:
        locker.stop()
        bridge.stop()


def server_paho_threads() -> list[str]:
    """paho's network threads of the server's clients (the test's lockers have their own)."""
    return [t.name for t in threading.enumerate() if t.name.startswith("paho-mqtt-client-linli")]


def test_bridges_on_one_network_thread_each_hear_their_own_lockers(
    network: NetworkLoop, mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    sites = [f"{mqtt_site}a", f"{mqtt_site}b", f"{mqtt_site}c"]
    for site in sites:
        add_locker(database, site, f"{site}-locker")
    bridges = [bridge_on(network, database, mqtt_url, site) for site in sites]
    lockers = [TestDevice(mqtt_url, site, f"{site}-locker", session=1) for site in sites]
    try:
        assert server_paho_threads() == [], "a bridge on the network loop started paho's own thread"
        for locker in lockers:
            locker.birth()
        sent = {locker.device_id: [locker.event("door_closed", compartment=1)
                                   for _ in range(20)] for locker in lockers}  # fmt: skip
        wait_for(lambda: all(locker.pending() == 0 for locker in lockers), "every ack")
        for device_id, seqs in sent.items():
            assert event_seqs(database, device_id) == seqs
    finally:
        for locker in lockers:
            locker.stop()
        for bridge in bridges:
            bridge.stop()


def test_a_bridge_whose_connection_breaks_connects_again_and_hears_the_rest(
    network: NetworkLoop, mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    with bridged_locker(network, database, mqtt_url, mqtt_site) as (bridge, locker):
        first = locker.event("door_closed", compartment=1)
        wait_for(lambda: locker.pending() == 0, "the first ack")
        connected_at = bridge.connected_at
        sock = bridge._client.socket()  # the one way to break it from outside
        assert sock is not None
        sock.shutdown(socket.SHUT_RDWR)
        wait_for(lambda: bridge.connected_at != connected_at and bridge.connected.is_set(),
                 "the bridge connected again")  # fmt: skip
        second = locker.event("door_closed", compartment=2)

        def acked() -> bool:
            locker.resend_unacked()
            return locker.pending() == 0

        wait_for(acked, "the ack after the reconnection")
        assert event_seqs(database, locker.device_id) == [first, second]


def test_after_a_broker_crash_every_event_is_stored_exactly_once(
    network: NetworkLoop, own_mosquitto: Any, database: Database
) -> None:
    site, device_id, total = "netloop", "netloop-locker", 40
    add_locker(database, site, device_id)
    bridge = bridge_on(network, database, own_mosquitto.url, site, retry_delay=0.1)
    locker = TestDevice(own_mosquitto.url, site, device_id, session=1)
    try:
        locker.birth()
        for _ in range(total // 2):
            locker.event("door_closed", compartment=1)
        own_mosquitto.restart(signal.SIGKILL)
        locker.connected.clear()
        locker.connected.wait(10)
        for _ in range(total - total // 2):
            locker.event("door_closed", compartment=1)

        def all_acked() -> bool:
            locker.resend_unacked()
            return locker.pending() == 0

        wait_for(all_acked, "every event acknowledged", timeout=30)
        assert event_seqs(database, device_id) == list(range(1, total + 1))
    finally:
        locker.stop()
        bridge.stop()


def test_a_silent_connection_is_kept_alive_by_the_loop(
    network: NetworkLoop, mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    add_locker(database, mqtt_site, f"{mqtt_site}-locker")
    # The broker drops a client silent for 1.5 keepalives; the loop must ping in between.
    # paho pings once a keepalive has passed, and the loop gives it the chance every
    # MISC_EVERY_S, so a ping goes up to that much later: with a keepalive of 1 s, up to
    # 1.5 s after the last packet, just when the broker drops the client, and a loaded
    # machine lost the connection (.ci/run, once). With 3 s the ping has a second to spare;
    # 8 s of silence needs two of them.
    keepalive = 3
    assert keepalive / 2 - MISC_EVERY_S >= 1.0
    bridge = bridge_on(network, database, mqtt_url, mqtt_site, keepalive=keepalive)
    try:
        connected_at = bridge.connected_at
        time.sleep(8)
        assert bridge.connected.is_set()
        assert bridge.connected_at == connected_at, "the connection was lost and made again"
    finally:
        bridge.stop()


def status_watcher(url: str, site: str) -> tuple[mqtt.Client, list[bytes]]:
    seen: list[bytes] = []
    watcher = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    watcher.on_message = lambda client, userdata, message: seen.append(message.payload)
    watcher.connect(*host_port(url))
    watcher.subscribe(server_status_topic(site), qos=1)
    watcher.loop_start()
    return watcher, seen


def test_a_bridge_leaving_the_loop_disconnects_cleanly_so_its_will_is_not_sent(
    network: NetworkLoop, mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    add_locker(database, mqtt_site, f"{mqtt_site}-locker")
    # A leader handing over publishes no `offline` (devices.sharing.BridgeStop); had the loop
    # closed the socket before writing the DISCONNECT, the broker would publish its Will.
    bridge = bridge_on(network, database, mqtt_url, mqtt_site, role=Role.LEADER)
    watcher, seen = status_watcher(mqtt_url, mqtt_site)
    try:
        wait_for(lambda: seen, "the retained online status")
        bridge.stop(say_offline=False)
        time.sleep(1.0)
        assert [json.loads(payload)["state"] for payload in seen] == ["online"]
    finally:
        watcher.disconnect()
        watcher.loop_stop()
        # Leave nothing retained for the next test on this broker.
        cleaner = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        cleaner.connect(*host_port(mqtt_url))
        cleaner.loop_start()
        cleaner.publish(server_status_topic(mqtt_site), b"", qos=1, retain=True).wait_for_publish(5)
        cleaner.disconnect()
        cleaner.loop_stop()


def test_a_client_that_cannot_connect_holds_up_no_other_bridge(
    network: NetworkLoop, mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens there once closed
    stranded = Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="stranded")
    failures: list[float] = []
    stranded.on_connect_fail = lambda client, userdata: failures.append(time.monotonic())
    stranded.reconnect_delay_set(min_delay=1, max_delay=4)
    stranded.connect_async("127.0.0.1", port)
    network.add(stranded)
    try:
        with bridged_locker(network, database, mqtt_url, mqtt_site) as (_bridge, locker):
            seq = locker.event("door_closed", compartment=1)
            wait_for(lambda: locker.pending() == 0, "the ack")
            assert event_seqs(database, locker.device_id) == [seq]
        wait_for(lambda: len(failures) >= 3, "three tries of the stranded client", timeout=10)
        # paho's backoff: 1 s, then 2 s, not a try on every turn of the loop.
        assert failures[2] - failures[1] >= 1.5
    finally:
        network.remove(stranded, timeout=0.5)
