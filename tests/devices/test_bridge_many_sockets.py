"""A worker of a district holds three sockets a centre besides its database's, so its later
bridges' sockets are numbered past 1024, where select() cannot wait. Such a bridge still
connects, stores its lockers' events and acks them (devices/mqtt_client.py): with paho's own
loop it reconnected every few seconds for ever without a word, its centre unheard."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from test_bridge import TestDevice, add_locker, event_seqs, wait_for

from booking.core.db import Database
from devices.bridge import Bridge
from devices.mqtt_client import BrokerUrl, Client

# select() takes descriptors below FD_SETSIZE (1024 on Linux); start well past it.
PAST_SELECT = 1100


@pytest.fixture
def descriptors_taken_up_to_past_select() -> Iterator[None]:
    """Every descriptor below PAST_SELECT held open, so the next sockets are numbered past it."""
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    soft, hard = limits
    if soft != resource.RLIM_INFINITY and soft < PAST_SELECT + 100:
        assert hard == resource.RLIM_INFINITY or hard >= PAST_SELECT + 100, (
            f"the open-files limit ({hard}) is too low to show a district worker's sockets"
        )
        resource.setrlimit(resource.RLIMIT_NOFILE, (PAST_SELECT + 100, hard))
    held: list[int] = []
    try:
        while (fd := os.open(os.devnull, os.O_RDONLY)) < PAST_SELECT:
            held.append(fd)
        held.append(fd)
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, limits)


def test_a_bridge_whose_sockets_are_numbered_past_1024_hears_its_lockers(
    mqtt_url: str, mqtt_site: str, database: Database, request: pytest.FixtureRequest
) -> None:
    device_id = f"{mqtt_site}-locker"
    add_locker(database, mqtt_site, device_id)
    # The locker is someone else's hardware, with its own few sockets: connected first.
    locker = TestDevice(mqtt_url, mqtt_site, device_id, session=1)
    try:
        request.getfixturevalue("descriptors_taken_up_to_past_select")
        bridge = Bridge(database, mqtt_url, mqtt_site, client_id=f"linli-server-{mqtt_site}")
        bridge.start()
        try:
            sock = bridge._client.socket()  # the one way to see which number it was given
            assert sock is not None and sock.fileno() > PAST_SELECT
            assert bridge.connected.is_set(), "the bridge could not connect"
            locker.birth()
            seq = locker.event("door_closed", compartment=1)
            wait_for(lambda: locker.pending() == 0, "the ack of the event")
            assert event_seqs(database, device_id) == [seq]
        finally:
            bridge.stop()
    finally:
        locker.stop()


def _open_inodes() -> set[str]:
    """What this process's descriptors point at (``socket:[inode]`` for a socket)."""
    found = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            found.add(os.readlink(f"/proc/self/fd/{name}"))
        except FileNotFoundError:  # the listing's own descriptor, closed since
            continue
    return found


def _client_sockets(client: mqtt.Client) -> set[str]:
    """The client's connection and wake-up pair, as ``/proc/self/fd`` names them (other
    tests' threads may open and close sockets of their own meanwhile)."""
    socks = [client.socket(), client._sockpairR, client._sockpairW]
    return {f"socket:[{os.fstat(sock.fileno()).st_ino}]" for sock in socks if sock is not None}


def test_a_stopped_bridge_keeps_no_socket_open(
    mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    """A worker that takes over from another stops its centres' follower bridges and starts
    leaders: each stopped bridge that still held paho's wake-up pair until the collector came
    left the survivor of a 200-centre takeover 400 descriptors nearer its limit."""
    bridge = Bridge(database, mqtt_url, mqtt_site, client_id=f"linli-server-{mqtt_site}")
    bridge.start()
    assert bridge.connected.is_set()
    held = _client_sockets(bridge._client)
    assert len(held) == 3 and held <= _open_inodes()  # the connection and the wake-up pair
    bridge.stop()
    # Still referenced, as the worker's records of its bridges may keep it: nothing to collect.
    assert held & _open_inodes() == set()


def test_a_client_whose_loop_ended_after_disconnect_closes_its_wake_up_pair_on_loop_stop(
    mqtt_url: str,
) -> None:
    """After disconnect() paho's loop thread may end by itself before loop_stop() is called
    (paho then answers MQTT_ERR_INVAL): the pair is closed all the same. A bridge's stop is
    disconnect() then loop_stop(), so which of the two ends the thread is a matter of timing."""
    broker = BrokerUrl(mqtt_url)
    client = Client(CallbackAPIVersion.VERSION2)
    client.connect(broker.host, broker.port)
    client.loop_start()
    held = _client_sockets(client)
    assert len(held) == 3
    # Connected first: with disconnect() called before the CONNACK, paho's loop went on
    # (it reconnected) in 5 of 8 runs here, and no thread ends on its own.
    wait_for(client.is_connected, "the connection")
    client.disconnect()
    wait_for(lambda: client._thread is None, "the loop thread's own end")
    client.loop_stop()
    assert held & _open_inodes() == set()
