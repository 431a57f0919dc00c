"""A small MQTT client that only publishes commands, usable from any process.

The web app runs under gunicorn without the bridge, so every web process keeps one of these:
it publishes at QoS 1, never retained, and learns of delivery to the broker from the PUBACK
(paho's ``on_publish``), not by polling ``is_published()``. What the device then answers
arrives at the bridge, which writes it to the database, where the caller reads it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import ssl
import threading
import uuid
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
# The protocol's limit for any message; a command never comes near it, but a bug might.
MAX_PAYLOAD_BYTES = 8 * 1024


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


def unique_client_id(prefix: str = "linli-cmd") -> str:
    """A client id no other process uses: two clients with one id keep kicking each other off."""
    return f"{prefix}-{socket.gethostname()[:20]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class CommandPublisher:
    """Publishes command payloads and reports whether the broker acknowledged each in time.

    Start it once per process, after any fork (``start()`` or ``with``; under gunicorn, lazily
    on first use in the worker). It reconnects by itself, and a command published while
    disconnected waits in paho's queue and goes out on reconnect.
    The command's own ``expires_at`` makes such a late delivery harmless: the device
    rejects it as ``expired``.
    """

    def __init__(
        self,
        url: str,
        *,
        client_id: str | None = None,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
    ) -> None:
        broker = BrokerUrl(url)
        self.url = url
        self._broker = broker
        self._keepalive = keepalive
        self.client_id = client_id or unique_client_id()
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        user = username or broker.username
        if user:
            self._client.username_pw_set(user, password or broker.password)
        if broker.tls:
            self._client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_socket_open = disable_nagle
        self._connected = threading.Event()
        self._lock = threading.Lock()
        # mid → event of a caller waiting for its PUBACK.
        self._waiting: dict[int, threading.Event] = {}
        # A PUBACK may be handled before publish() has returned the mid to us.
        self._acked_early: set[int] = set()
        # mids whose caller gave up: their late PUBACK must not count for a reused mid.
        self._abandoned: set[int] = set()
        self._started = False
        self._started_pid = 0

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, connect_timeout: float = 5.0) -> CommandPublisher:
        """Connect in the background; wait up to ``connect_timeout`` s for the first CONNACK.

        Not being connected yet is no error: publishes queue until the connection is up.
        """
        if not self._started:
            self._client.connect_async(self._broker.host, self._broker.port, self._keepalive)
            self._client.loop_start()
            self._started = True
            self._started_pid = os.getpid()
        self._connected.wait(connect_timeout)
        return self

    def stop(self) -> None:
        if not self._started:
            return
        self._client.disconnect()
        self._client.loop_stop()
        self._started = False
        self._connected.clear()

    def __enter__(self) -> CommandPublisher:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # --- publishing --------------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, timeout: float) -> bool:
        """Publish at QoS 1, not retained; True once the broker acknowledged it within ``timeout``."""
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
        if not self._started:
            raise RuntimeError("CommandPublisher.publish before start()")
        if self._started_pid != os.getpid():
            # Started before a fork (gunicorn --preload): the network thread stayed behind.
            raise RuntimeError("CommandPublisher started in another process; start one per process")
        info = self._client.publish(topic, payload, qos=1, retain=False)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            # Queue full or a bad topic: the message is not in paho's queue at all.
            log.warning("publish to %s refused by the client: %s", topic, info.rc)
            return False
        with self._lock:
            if info.mid in self._acked_early:
                self._acked_early.discard(info.mid)
                return True
            done = threading.Event()
            self._waiting[info.mid] = done
        if done.wait(max(0.0, timeout)):
            return True
        with self._lock:
            self._waiting.pop(info.mid, None)
            if done.is_set():  # acknowledged just as we gave up
                return True
            self._abandoned.add(info.mid)
        return False

    # --- paho callbacks (network thread) -----------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            log.warning("command publisher refused by the broker: %s", reason_code)
            return
        self._connected.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        self._connected.clear()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        with self._lock:
            if mid in self._abandoned:
                self._abandoned.discard(mid)
                return
            waiter = self._waiting.pop(mid, None)
            if waiter is None:
                self._acked_early.add(mid)
            else:
                waiter.set()
