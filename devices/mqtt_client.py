"""What the server's MQTT clients share: the broker URL, the socket option they set, a
network loop that waits with ``poll`` rather than ``select``, and a batch's PUBACKs in one
write.

There is no command publisher outside the bridge any more. A process that published commands
without recording the replies opened a locker while the worker was stopped, and nobody
recorded the loan; commands now go through the database to the worker's bridge, which alone
publishes them (:mod:`devices.commands.outbox`).
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode, _ConnectionState

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


# A PUBACK: its type, remaining length 2, the message id (MQTT 3.1.1 §3.4; a 5.0 PUBACK of
# "success" with no properties may be the same, §3.4.2.1).
_PUBACK = struct.Struct("!BBH")
_PUBACK_TYPE = 0x40

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL


class Client(mqtt.Client):
    """paho's client, its threaded network loop waiting in ``poll`` instead of ``select``.

    ``select`` takes no socket numbered 1024 or more, and paho's loop (2.x, ``Client._loop``)
    turns the ValueError it raises into "connection lost": such a client reconnects every
    ``max_delay`` seconds for ever without sending its CONNECT, and says nothing (paho issue
    #819, still open). A worker of a district holds three sockets a centre (the connection
    and paho's wake-up pair) besides its database's: in ``bench/district.py`` at 200 centres,
    the survivor of a takeover held 1,412, and the 77 bridges started last never connected,
    their centres' events unheard until the worker restarted (docs/benchmarks.md, eighteenth
    session). The loop below is paho's own, step for step, with only the wait changed.
    """

    def loop_stop(self) -> MQTTErrorCode:
        """Stop the network thread, then close its wake-up pair.

        paho closes the pair only when the client is collected. A worker taking over from
        another stops a follower bridge for each of its centres and starts a leader: the
        survivor of a 200-centre takeover held 400 descriptors more than the leader it
        replaced, on its way to the limit a worker of many centres is near.
        """
        rc = super().loop_stop()
        # No thread left: stopped and joined here, or ended on its own after disconnect() (then
        # paho answers MQTT_ERR_INVAL). Called from the loop's own thread, it is still running.
        if self._thread is None:
            self._reset_sockets(sockpair_only=True)
        return rc

    def ack_many(self, mids: Iterable[int]) -> MQTTErrorCode:
        """PUBACK each QoS 1 message of ``mids`` (``manual_ack``), all in one queued packet.

        paho's ``ack(mid, 1)`` queues each PUBACK on its own: a dict, a byte written to the
        wake-up pair and, in the network thread, a ``send`` each, 500 of each for one of the
        bridge's batches. In ``bench/mqtt_ingest.py`` that was the largest part of what the
        bridge's process spends a message beyond a bare subscriber, and that process (paho's
        thread and the bridge's worker under one GIL) is the one the ingest waits for
        (docs/benchmarks.md, twentieth session). The bytes are the same PUBACKs, in the same
        order: MQTT is a byte stream to the broker, which reads them one by one.
        """
        packet = b"".join(_PUBACK.pack(_PUBACK_TYPE, 2, mid) for mid in mids)
        if not packet:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        # paho's own queueing (wake-up byte, a write now when no thread runs the loop).
        return self._packet_queue(_PUBACK_TYPE, packet, 0, 1)

    def _loop(self, timeout: float = 1.0) -> MQTTErrorCode:
        if timeout < 0.0:
            raise ValueError("Invalid timeout.")
        sock, wake = self._sock, self._sockpairR
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        # Bytes a TLS socket already decrypted are not seen by poll: read them now.
        pending = sock.pending() if hasattr(sock, "pending") else 0
        poller = select.poll()
        try:
            sock_fd = sock.fileno()
            poller.register(sock_fd, select.POLLIN | (select.POLLOUT if self.want_write() else 0))
            wake_fd = wake.fileno() if wake is not None else -1
            if wake is not None:
                poller.register(wake_fd, select.POLLIN)
            ready = dict(poller.poll(0 if pending > 0 else timeout * 1000))
        except (TypeError, ValueError, OSError):
            # The socket closed meanwhile (disconnect() from another thread): as paho's loop.
            if self._state not in (
                _ConnectionState.MQTT_CS_DISCONNECTING,
                _ConnectionState.MQTT_CS_DISCONNECTED,
            ):
                self._state = _ConnectionState.MQTT_CS_CONNECTION_LOST
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        events = ready.get(sock_fd, 0)
        if events & _READABLE or pending > 0:
            rc = self.loop_read()
            if rc or self._sock is None:
                return rc
        woken = False
        if wake is not None and wake_fd in ready:
            # A publish() from another thread: its packet waits to be written.
            woken = True
            with contextlib.suppress(BlockingIOError):
                wake.recv(10000)
        if events & select.POLLOUT or woken:
            rc = self.loop_write()
            if rc or self._sock is None:
                return rc
        return self.loop_misc()

    # --- for devices.network_loop: paho's external-loop API, and what its threaded loop does
    # --- beside it (reading until the socket is empty, the reconnection's backoff) ----------

    def read_one(self) -> MQTTErrorCode:
        """Read one packet: SUCCESS if one was read, AGAIN if no whole packet is waiting, or
        the error (the connection then closed, as paho's ``loop_read`` closes it).

        paho's ``loop_read`` reads one packet and answers SUCCESS whether or not there was one,
        so a caller cannot tell when the socket is drained."""
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        rc = self._packet_read()
        if rc > 0:
            return self._loop_rc_handle(rc) or MQTTErrorCode.MQTT_ERR_NO_CONN
        return rc

    def pending_tls_bytes(self) -> int:
        """Bytes a TLS socket has decrypted and not yet handed over (``poll`` cannot see them)."""
        sock = self._sock
        return sock.pending() if sock is not None and hasattr(sock, "pending") else 0

    def connection_state(self) -> _ConnectionState:
        return self._state

    def connect_failed(self) -> None:
        """A connection attempt failed: ``on_connect_fail``, as paho's threaded loop calls it."""
        self._handle_on_connect_fail()

    def next_reconnect_delay(self) -> float:
        """The wait before the next attempt: ``reconnect_delay_set``'s minimum, doubled each
        time up to its maximum, and the minimum again once a connection is accepted (paho's
        ``_reconnect_wait``, whose sleep the network loop cannot take)."""
        with self._reconnect_delay_mutex:
            if self._reconnect_delay is None:
                self._reconnect_delay = self._reconnect_min_delay
            else:
                self._reconnect_delay = min(self._reconnect_delay * 2, self._reconnect_max_delay)
            return float(self._reconnect_delay)

    def client_name(self) -> str:
        return self._client_id.decode(errors="replace")

    def close_socket(self) -> None:
        self._sock_close()
