"""A bridge counts as connected once the broker has granted its subscriptions, not once it
has only asked for them.

Before the SUBACK, Mosquitto gives a shared subscription's messages to the group's other
members, so a worker that called itself connected could sit idle while the other applied
everything; and the web would offer lockers whose replies nobody yet hears. Mosquitto answers
at once, so the broker here is a small one of the test's own that holds its SUBACK back until
the test lets it go.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from booking.core.db import Database
from devices.bridge import Bridge
from devices.sharing import Role

TIMEOUT_S = 10.0


class SubackHeldBroker:
    """Just enough of an MQTT 3.1.1 broker for one client: CONNACK at once, PINGRESP, and
    the SUBACK only on :meth:`grant`."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"mqtt://127.0.0.1:{self._listener.getsockname()[1]}"
        self.subscribe_received = threading.Event()
        self._granted = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def grant(self) -> None:
        self._granted.set()

    def close(self) -> None:
        self._granted.set()
        self._listener.close()

    def _serve(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return  # closed before the client came
        with connection:
            while True:
                packet = self._read_packet(connection)
                if packet is None:
                    return
                kind, body = packet
                if kind == 0x10:  # CONNECT
                    connection.sendall(bytes([0x20, 2, 0, 0]))
                elif kind == 0x80:  # SUBSCRIBE: packet id, then (filter, QoS) pairs
                    self.subscribe_received.set()
                    self._granted.wait(TIMEOUT_S)
                    granted = bytes(1 for _ in self._filters(body[2:]))  # QoS 1 each
                    connection.sendall(bytes([0x90, 2 + len(granted)]) + body[:2] + granted)
                elif kind == 0xC0:  # PINGREQ
                    connection.sendall(bytes([0xD0, 0]))
                elif kind == 0xE0:  # DISCONNECT
                    return

    @staticmethod
    def _filters(payload: bytes) -> Iterator[str]:
        while payload:
            length = int.from_bytes(payload[:2], "big")
            yield payload[2 : 2 + length].decode()
            payload = payload[3 + length :]

    @staticmethod
    def _read_packet(connection: socket.socket) -> tuple[int, bytes] | None:
        header = connection.recv(1)
        if not header:
            return None
        length, shift = 0, 0
        while True:  # the remaining length: 7 bits a byte, high bit set while more follow
            byte = connection.recv(1)
            if not byte:
                return None
            length += (byte[0] & 0x7F) << shift
            shift += 7
            if not byte[0] & 0x80:
                break
        body = b""
        while len(body) < length:
            chunk = connection.recv(length - len(body))
            if not chunk:
                return None  # the client went away mid-packet
            body += chunk
        return header[0] & 0xF0, body


@pytest.fixture
def broker() -> Iterator[SubackHeldBroker]:
    broker = SubackHeldBroker()
    yield broker
    broker.close()


@pytest.mark.parametrize("role", [Role.SOLE, Role.FOLLOWER])
def test_a_bridge_is_connected_only_once_the_broker_has_granted_its_subscriptions(
    broker: SubackHeldBroker, database: Database, role: Role
) -> None:
    bridge = Bridge(database, broker.url, "yongsheng", role=role)
    bridge.start(connect_timeout=0.5)  # returns unconnected after the timeout
    try:
        assert broker.subscribe_received.wait(TIMEOUT_S)
        assert not bridge.connected.wait(0.5), "connected before the broker's SUBACK"

        broker.grant()

        assert bridge.connected.wait(TIMEOUT_S)
    finally:
        bridge.stop(timeout=2.0)
