"""What the server's MQTT clients share: the broker URL, and the socket option they set.

There is no command publisher outside the bridge any more. A process that published commands
without recording the replies opened a locker while the worker was stopped, and nobody
recorded the loan; commands now go through the database to the worker's bridge, which alone
publishes them (:mod:`devices.commands.outbox`).
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


class BrokerUrl:
    """``mqtt://[user[:password]@]host[:port]`` or ``mqtts://…`` (TLS), parsed once."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"not an mqtt:// or mqtts:// broker URL: {url!r}")
        self.tls = parts.scheme == "mqtts"
        self.host: str = parts.hostname
        self.port: int = parts.port or DEFAULT_PORTS[parts.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None


def disable_nagle(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """paho's ``on_socket_open``: set TCP_NODELAY, which paho leaves off.

    With Nagle on, a small packet sent while an earlier one is unacknowledged waits for the
    peer's delayed ACK (40 ms on Linux): a command right after another, a reply's PUBACK
    right after an ack. Every message here is small and someone is waiting for it.
    """
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
