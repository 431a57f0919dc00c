"""The device's own network loop over paho's external-loop API, and its reconnect backoff.

paho's ``loop()`` selects on paho's own wake-up pipe, which publishes queued from other
threads cannot reach; this loop also waits on a socket pair that any thread can poke.
"""

from __future__ import annotations

import contextlib
import random
import select
import socket

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
# The longest the network loop sleeps with nothing to do; queued publishes wake it at once.
LOOP_IDLE_S = 0.05


def wake_pair() -> tuple[socket.socket, socket.socket]:
    read_end, write_end = socket.socketpair()
    read_end.setblocking(False)
    write_end.setblocking(False)
    return read_end, write_end


def loop_once(client: mqtt.Client, wake_r: socket.socket | None) -> MQTTErrorCode:
    """One turn: wait for the socket or a wake-up, read, write what is pending, keepalive."""
    sock = client.socket()
    if not isinstance(sock, socket.socket) or wake_r is None:
        return mqtt.MQTT_ERR_NO_CONN
    writable = [sock] if client.want_write() else []
    try:
        readable, can_write, _ = select.select([sock, wake_r], writable, [], LOOP_IDLE_S)
    except (OSError, ValueError):
        return mqtt.MQTT_ERR_CONN_LOST
    if wake_r in readable:
        with contextlib.suppress(BlockingIOError):
            wake_r.recv(4096)
    if sock in readable:
        rc = client.loop_read()
        if rc != mqtt.MQTT_ERR_SUCCESS or client.socket() is None:
            return rc if rc != mqtt.MQTT_ERR_SUCCESS else mqtt.MQTT_ERR_CONN_LOST
    if can_write:
        rc = client.loop_write()
        if rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_AGAIN):
            return rc
    return client.loop_misc()


def no_delay(client: mqtt.Client) -> None:
    """paho leaves Nagle on: a reply sent right after another small packet would wait for the
    broker's delayed ACK (40 ms on Linux)."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def backoff(failures: int) -> float:
    delay = min(BACKOFF_FIRST_S * 2.0 ** min(failures - 1, 10), BACKOFF_MAX_S)
    return delay * random.uniform(0.5, 1.0)


def kill_socket(client: mqtt.Client) -> None:
    """End the TCP connection without an MQTT DISCONNECT, so the broker sends the Will."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
