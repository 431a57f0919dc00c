"""One thread that runs the network of many MQTT clients: a district worker's bridges.

A worker of a district keeps a bridge per centre, each with its own connection, Will and
server status (docs/scaling.md item 1). With paho's threaded loop each connection had a
network thread of its own: 200 threads of a worker of 200 centres, each waking for every
packet it read (paho reads one packet a wake-up), each taking the interpreter's lock from the
committers and from one another. Here one thread waits in ``poll`` for all of them and reads
what each socket holds in one go, through paho's external-loop API (``loop_read``,
``loop_write``, ``loop_misc``, the ``on_socket_register_write`` callback). paho's threaded
loop also reconnects; this does the same, with the backoff each client was given
(``reconnect_delay_set``).

What paho's threaded loop guaranteed still holds: only this thread reads and writes a
client's socket, and a packet queued from any thread (``publish``, ``ack_many``,
``disconnect``) wakes it.

Every socket operation on a client (connect, read, write, close) happens in this thread, so
the poller's registrations are brought up to date right after each one (``_sync``).

Why a loop of our own: paho offers one thread a client or the pieces for an external loop,
not a loop for many clients; the asyncio clients (aiomqtt, itself on paho; gmqtt) would have
the bridges, their committers and the command sender rewritten around an event loop.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from paho.mqtt.enums import MQTTErrorCode, _ConnectionState

if TYPE_CHECKING:
    from devices.mqtt_client import Client

log = logging.getLogger(__name__)

# How often every client's keepalive (PINGREQ, and the broker's silence) and reconnection are
# looked at: paho's threaded loop looks at least once a second (its poll's timeout).
MISC_EVERY_S = 0.5
# Packets read from one socket before the next socket's turn: a burst of one centre's events
# must not keep the others' replies waiting.
READ_BURST = 100

_READABLE = select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP | select.POLLNVAL
_GONE = (_ConnectionState.MQTT_CS_DISCONNECTING, _ConnectionState.MQTT_CS_DISCONNECTED)


@dataclass(eq=False)
class _Link:
    client: Client
    fd: int | None = None
    mask: int = 0
    # When to try to connect again (monotonic), while the client has no socket.
    retry_at: float = 0.0
    # Set by remove(), which waits for ``gone``: by when the loop lets the client go.
    leave_by: float | None = None
    gone: threading.Event = field(default_factory=threading.Event)


class NetworkLoop:
    """``add(client)`` after ``connect_async``; ``remove(client)`` after ``disconnect``;
    ``stop()`` when every client is removed."""

    def __init__(self, name: str = "linli-mqtt-network") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._links: dict[Client, _Link] = {}
        self._by_fd: dict[int, _Link] = {}
        # Clients with packets queued since the loop last wrote; and whether it was woken.
        self._writers: set[Client] = set()
        self._arriving: list[_Link] = []
        self._woken = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._poller = select.poll()
        self._poller.register(self._wake_r.fileno(), select.POLLIN)
        self._stopping = False
        self._thread: threading.Thread | None = None

    # --- from any thread ------------------------------------------------------------------------

    def start(self) -> NetworkLoop:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()
        return self

    def add(self, client: Client) -> None:
        """Run ``client``'s network from now on: connect it (it was given its broker with
        ``connect_async``), keep it connected, read and write for it."""
        client.on_socket_register_write = self._register_write
        client.on_socket_unregister_write = None
        with self._lock:
            self._arriving.append(_Link(client))
        self._wake()

    def remove(self, client: Client, timeout: float = 5.0) -> None:
        """Let ``client`` go: once its queued packets (a ``disconnect()``'s DISCONNECT) are
        written, or after ``timeout``, its socket is closed and the loop forgets it."""
        with self._lock:
            link = self._links.get(client) or next(
                (link for link in self._arriving if link.client is client), None
            )
            if link is None:
                return
            link.leave_by = time.monotonic() + timeout
        self._wake()
        link.gone.wait(timeout + 1.0)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._wake_r.close()
        self._wake_w.close()

    def _register_write(self, client: Any, userdata: Any, sock: Any) -> None:
        # paho calls this whenever a packet is queued and the socket was not already waiting
        # to be written; from the publishing thread, or this one.
        with self._lock:
            self._writers.add(client)
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            if self._woken:
                return
            self._woken = True
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_w.send(b"x")

    # --- the loop's thread ------------------------------------------------------------------------

    def _run(self) -> None:
        next_misc = time.monotonic()
        # Sockets whose last burst ended with more to read (and a TLS socket's decrypted
        # bytes, which poll does not see): read again before waiting.
        again: list[_Link] = []
        wake_fd = self._wake_r.fileno()
        while not self._stopping:
            timeout = 0.0 if again else max(0.0, min(next_misc - time.monotonic(), 1.0))
            ready = self._poller.poll(timeout * 1000)
            unfinished, again = again, []
            for link in unfinished:
                self._guarded(link, self._read, again=again)
            for fd, events in ready:
                found = self._by_fd.get(fd)
                if fd == wake_fd or found is None:
                    continue
                if events & _READABLE:
                    self._guarded(found, self._read, again=again)
                if events & select.POLLOUT:
                    self._guarded(found, self._write)
            self._take_wakes()
            if time.monotonic() >= next_misc:
                next_misc = time.monotonic() + MISC_EVERY_S
                for link in list(self._links.values()):
                    self._guarded(link, self._misc)
        for link in list(self._links.values()):
            self._drop(link)

    def _guarded(self, link: _Link, step: Any, **kwargs: Any) -> None:
        # One client's failure must not stop the network of every other centre.
        try:
            step(link, **kwargs)
        except Exception:
            log.exception("network loop: %s failed for %s", step.__name__,
                          link.client.client_name())  # fmt: skip
            with contextlib.suppress(Exception):
                link.client.close_socket()
        with contextlib.suppress(Exception):
            self._sync(link)

    def _take_wakes(self) -> None:
        # The pipe first, then the flag: a wake after the flag is cleared leaves its byte for
        # the next poll.
        with contextlib.suppress(BlockingIOError, OSError):
            self._wake_r.recv(4096)
        with self._lock:
            self._woken = False
            writers, self._writers = self._writers, set()
            arriving, self._arriving = self._arriving, []
            # Under the lock: remove() looks for a client here or among the arriving.
            self._links.update((link.client, link) for link in arriving)
        for link in arriving:
            self._guarded(link, self._misc)  # connects it now
        for client in writers:
            writer = self._links.get(client)
            if writer is not None:
                self._guarded(writer, self._write)
        for link in [link for link in self._links.values() if link.leave_by is not None]:
            self._guarded(link, self._misc)

    def _read(self, link: _Link, *, again: list[_Link]) -> None:
        client = link.client
        for _ in range(READ_BURST):
            if client.read_one() is not MQTTErrorCode.MQTT_ERR_SUCCESS:
                if client.pending_tls_bytes():
                    again.append(link)
                return
        again.append(link)

    def _write(self, link: _Link) -> None:
        if link.client.socket() is not None:
            link.client.loop_write()

    def _misc(self, link: _Link) -> None:
        """Keepalive, leaving, and connecting again after a loss."""
        client = link.client
        if link.leave_by is not None:
            # Gone, or its DISCONNECT written (paho then closes the socket), or out of time.
            done = client.socket() is None or not client.want_write()
            if done or time.monotonic() >= link.leave_by:
                self._drop(link)
            return
        if client.socket() is not None:
            client.loop_misc()
            return
        if client.connection_state() in _GONE or time.monotonic() < link.retry_at:
            return
        try:
            client.reconnect()
        except OSError as error:  # refused, unreachable, timed out, TLS refused
            log.debug("%s: connection failed: %s", client.client_name(), error)
            client.connect_failed()
            link.retry_at = time.monotonic() + client.next_reconnect_delay()

    def _sync(self, link: _Link) -> None:
        """The poller's registration of ``link`` as its client's socket is now."""
        sock = link.client.socket()
        number = sock.fileno() if sock is not None else -1
        fd = number if number >= 0 else None
        if fd != link.fd:
            if link.fd is not None:
                self._by_fd.pop(link.fd, None)
                with contextlib.suppress(KeyError, ValueError):
                    self._poller.unregister(link.fd)
            link.fd, link.mask = fd, 0
            if fd is None:
                # Lost: paho's threaded loop waits its backoff before the next try.
                if link.client.connection_state() not in _GONE:
                    link.retry_at = time.monotonic() + link.client.next_reconnect_delay()
                return
            self._by_fd[fd] = link
        if fd is None:
            return
        mask = select.POLLIN | (select.POLLOUT if link.client.want_write() else 0)
        if mask != link.mask:
            if link.mask == 0:
                self._poller.register(fd, mask)
            else:
                self._poller.modify(fd, mask)
            link.mask = mask

    def _drop(self, link: _Link) -> None:
        link.client.close_socket()
        self._sync(link)
        with self._lock:
            self._links.pop(link.client, None)
        link.gone.set()
