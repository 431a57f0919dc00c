"""The device's MQTT connection, as docs/protocol.md §4 describes it.

Every connect attempt is a new session: the counter is incremented and stored first, then the
Last Will (offline status with that counter) is set, then we connect. paho's own reconnect
would re-use the old Will, so this module runs its own network loop and makes a fresh client
for every attempt.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import random
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from linli_sim.outbox import DeviceStore

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
KEEPALIVE_S = 30
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
# The longest the network loop sleeps with nothing to do; queued publishes wake it at once.
LOOP_IDLE_S = 0.05


Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The device's real-time clock, which the protocol asks devices to keep in sync (NTP)."""
    return datetime.now(UTC)


def utc_ts(moment: datetime) -> str:
    """ISO 8601 UTC with a literal Z and milliseconds, the protocol's only time format."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://host:1883, not {url!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or 1883,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class Link:
    """One device's connection: session counter, seq, Will, heartbeat, outbox re-sends."""

    def __init__(
        self,
        *,
        device_id: str,
        site: str,
        broker_url: str,
        store: DeviceStore,
        on_online: Callable[[], None],
        on_command: Callable[[bytes], None],
        username: str | None = None,
        password: str | None = None,
        heartbeat_s: int = 30,
        resend_interval: float = 5.0,
        keepalive: int = KEEPALIVE_S,
        clock: Clock = system_clock,
    ) -> None:
        self.device_id = device_id
        # Every timestamp the device writes comes from this one clock; a test that sets the
        # server's clock hands the same one here, so both agree whatever today's date is.
        self.clock = clock
        self.site = site
        self.broker = BrokerAddress.parse(broker_url)
        self.username = username or self.broker.username or device_id
        self.password = password if password is not None else self.broker.password
        self.store = store
        self.heartbeat_s = heartbeat_s
        self.resend_interval = resend_interval
        self.keepalive = keepalive
        self._on_online = on_online
        self._on_command = on_command

        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._clean_stop = True
        self._hold_offline = threading.Event()
        self._kill_requested = threading.Event()
        self._publish_lock = threading.RLock()
        # paho writes to the socket from whichever thread publishes when no loop_start() thread
        # exists; two threads writing at once would interleave packets. So every publish is
        # queued here and sent by the network thread, in the order its seq was taken.
        self._outgoing: queue.SimpleQueue[tuple[str, bytes, int, bool]] = queue.SimpleQueue()
        # Wakes the network loop's select() when another thread queues a publish: a reply made
        # on a timer thread must not wait out the loop's idle timeout (measured: +25 ms median).
        # Made by start(), closed when the loop ends: a link never started holds no sockets.
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._seen_server_status = False
        self._last_heartbeat = 0.0
        self._last_resend = 0.0
        # Faults: the last seq'd message as sent, and messages held back to be sent reversed.
        self._last_sent: tuple[str, bytes] | None = None
        self._held: list[tuple[str, bytes, bool]] = []
        self._hold_count = 0
        self.connects = 0
        self.last_connect_error: str | None = None

    # --- topics -----------------------------------------------------------------------------

    def topic(self, suffix: str) -> str:
        return f"linli/v1/{self.site}/{self.device_id}/{suffix}"

    @property
    def server_status_topic(self) -> str:
        return f"linli/v1/{self.site}/server/status"

    @property
    def session(self) -> int:
        return self.store.current_session()[0]

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._wake_r, self._wake_w = _wake_pair()
        self._thread = threading.Thread(
            target=self._run, name=f"link-{self.device_id}", daemon=True
        )
        self._thread.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    def stop(self, *, clean: bool = True) -> None:
        """Stop the link. Clean: offline status, then DISCONNECT (no Will). Not clean: the
        socket just dies, as when the power goes, and the broker publishes the Will."""
        self._clean_stop = clean
        if not clean:
            self._kill_requested.set()
        self._stopping.set()
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None

    def go_offline(self) -> None:
        """Drop the TCP connection without DISCONNECT (the Will fires) and stay offline."""
        self._hold_offline.set()
        self._kill_requested.set()
        self._wake()
        deadline = time.monotonic() + 5
        while self._connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)

    def go_online(self) -> None:
        self._hold_offline.clear()

    # --- publishing -------------------------------------------------------------------------

    def envelope(self, session: int, seq: int, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "v": PROTOCOL_VERSION,
            "device": self.device_id,
            "session": session,
            "seq": seq,
            "ts": utc_ts(self.clock()),
            **body,
        }

    def publish(
        self, suffix: str, body: dict[str, Any], *, retain: bool = False
    ) -> dict[str, Any] | None:
        """Publish a seq'd message (birth, state, reply). Dropped when offline: a lost state is
        replaced by the next birth, and it takes no seq, so no gap is made."""
        with self._publish_lock:
            if not self._connected.is_set():
                return None
            session, seq = self.store.take_seq()
            payload = self.envelope(session, seq, body)
            self._send_seqd(suffix, encode(payload), retain)
            return payload

    def publish_event(self, body: dict[str, Any]) -> dict[str, Any]:
        """Keep the event durably first, then publish it (when connected)."""
        with self._publish_lock:
            session, seq = self.store.take_seq()
            payload = self.envelope(session, seq, body)
            self.store.keep_event(session, seq, payload)
            if self._connected.is_set():
                self._send_seqd("event", encode(payload), False)
            return payload

    def publish_raw(
        self, suffix: str, payload: bytes, *, qos: int = 1, retain: bool = False
    ) -> None:
        """Send bytes as they are (faults: malformed payloads, duplicates)."""
        if self._connected.is_set():
            self._enqueue(self.topic(suffix), payload, qos, retain)

    def duplicate_last(self) -> bool:
        """Send the last seq'd message again, byte for byte."""
        with self._publish_lock:
            if self._last_sent is None:
                return False
            suffix, payload = self._last_sent
            self.publish_raw(suffix, payload)
            return True

    def reorder_next(self, count: int = 2) -> None:
        """Hold the next ``count`` seq'd messages and send them in reverse order."""
        with self._publish_lock:
            self._hold_count = count
            self._held = []

    def _send_seqd(self, suffix: str, payload: bytes, retain: bool) -> None:
        if self._hold_count:
            self._held.append((suffix, payload, retain))
            if len(self._held) < self._hold_count:
                return
            held, self._held, self._hold_count = self._held, [], 0
            for item in reversed(held):
                self._send_now(*item)
            return
        self._send_now(suffix, payload, retain)

    def _send_now(self, suffix: str, payload: bytes, retain: bool) -> None:
        self._enqueue(self.topic(suffix), payload, 1, retain)
        self._last_sent = (suffix, payload)

    def _enqueue(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self._outgoing.put((topic, payload, qos, retain))
        self._wake()

    def _wake(self) -> None:
        # A full buffer means a wake-up is already pending; a closed one, that we are stopping.
        wake_w = self._wake_w
        if wake_w is not None:
            with contextlib.suppress(BlockingIOError, OSError):
                wake_w.send(b"x")

    def _drain(self, client: mqtt.Client) -> None:
        while True:
            try:
                topic, payload, qos, retain = self._outgoing.get_nowait()
            except queue.Empty:
                return
            client.publish(topic, payload, qos=qos, retain=retain)

    def resend_unacked(self) -> int:
        """Re-send every kept event unchanged (original session, seq and ts)."""
        events = self.store.unacked()
        for payload in events:
            self.publish_raw("event", encode(payload))
        return len(events)

    # --- network loop -----------------------------------------------------------------------

    def _status(self, session: int, state: str) -> bytes:
        return encode(
            {
                "v": PROTOCOL_VERSION,
                "device": self.device_id,
                "session": session,
                "state": state,
                "ts": utc_ts(self.clock()),
            }
        )

    def _connect(self) -> mqtt.Client:
        session = self.store.begin_session()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.device_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        client.username_pw_set(self.username, self.password)
        # The Will carries this connection's session, so the server can ignore a late one.
        client.will_set(self.topic("status"), self._status(session, "offline"), qos=1, retain=True)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.user_data_set(session)
        client.connect(self.broker.host, self.broker.port, keepalive=self.keepalive)
        sock = client.socket()
        if isinstance(sock, socket.socket):
            # paho leaves Nagle on: a reply sent right after another small packet would wait
            # for the broker's delayed ACK (40 ms on Linux).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return client

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            if self._client is None:
                if self._hold_offline.is_set():
                    self._kill_requested.clear()
                    self._stopping.wait(0.05)
                    continue
                try:
                    self._client = self._connect()
                except OSError as error:
                    self.last_connect_error = str(error)
                    failures += 1
                    self._stopping.wait(backoff(failures))
                    continue
            client = self._client
            if self._kill_requested.is_set():
                self._kill_requested.clear()
                kill_socket(client)
            rc = self._loop_once(client)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._lost()
                failures += 1
                self._stopping.wait(backoff(failures))
                continue
            if self._connected.is_set():
                failures = 0
                self._periodic(client)
                self._drain(client)
        self._shutdown()
        for end in (self._wake_r, self._wake_w):
            if end is not None:
                end.close()

    def _loop_once(self, client: mqtt.Client) -> MQTTErrorCode:
        """One turn of paho's external-loop API: wait for the socket or a wake-up, read,
        write what is pending, keepalive. (``client.loop()`` selects on paho's own wake-up
        pipe, which our publishes from other threads cannot reach.)"""
        sock, wake_r = client.socket(), self._wake_r
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

    def _periodic(self, client: mqtt.Client) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat >= self.heartbeat_s:
            self._last_heartbeat = now
            heartbeat = {
                "v": PROTOCOL_VERSION,
                "device": self.device_id,
                "session": self.session,
                "ts": utc_ts(self.clock()),
            }
            self._outgoing.put((self.topic("heartbeat"), encode(heartbeat), 0, False))
        if now - self._last_resend >= self.resend_interval:
            self._last_resend = now
            self.resend_unacked()

    def _lost(self) -> None:
        self._connected.clear()
        self._client = None
        # What was queued belongs to the dead connection; events wait in the outbox anyway.
        while not self._outgoing.empty():
            self._outgoing.get_nowait()

    def _shutdown(self) -> None:
        client = self._client
        if client is None:
            return
        if self._clean_stop and self._connected.is_set():
            self._drain(client)
            info = client.publish(
                self.topic("status"), self._status(self.session, "offline"), qos=1, retain=True
            )
            deadline = time.monotonic() + 3
            # Only when queued on a live connection: is_published() raises otherwise.
            while (
                info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS
                and not info.is_published()
                and time.monotonic() < deadline
            ):
                client.loop(timeout=0.05)
            client.disconnect()
            deadline = time.monotonic() + 3
            while client.is_connected() and time.monotonic() < deadline:
                client.loop(timeout=0.05)
        else:
            kill_socket(client)
            client.loop(timeout=0.05)
        self._connected.clear()
        self._client = None

    # --- callbacks (network thread) ---------------------------------------------------------

    def _handle_connect(
        self, client: mqtt.Client, session: int, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            # Wrong password or not authorised: the broker closes; we retry with backoff.
            self.last_connect_error = f"broker refused: {reason}"
            log.warning("%s: %s", self.device_id, self.last_connect_error)
            return
        self.connects += 1
        self._seen_server_status = False
        # Subscribe on every connect: the broker may have lost our persistent session.
        client.subscribe(
            [(self.topic("cmd"), 1), (self.topic("ack"), 1), (self.server_status_topic, 1)]
        )
        self._outgoing.put((self.topic("status"), self._status(session, "online"), 1, True))
        self._connected.set()
        # The first heartbeat goes out at once, so the server's liveness clock starts now.
        self._last_heartbeat = 0.0
        self._on_online()
        self._last_resend = time.monotonic()
        self.resend_unacked()

    def _handle_disconnect(
        self, client: mqtt.Client, session: int, flags: Any, reason: Any, properties: Any
    ) -> None:
        self._connected.clear()

    def _handle_message(self, client: mqtt.Client, session: int, message: mqtt.MQTTMessage) -> None:
        try:
            if message.topic == self.topic("ack"):
                self._handle_ack(bytes(message.payload))
            elif message.topic == self.topic("cmd"):
                self._on_command(bytes(message.payload))
            elif message.topic == self.server_status_topic:
                self._handle_server_status(message)
        except Exception:  # one bad message must not take the link down
            log.exception("%s: failed to handle a message on %s", self.device_id, message.topic)

    def _handle_ack(self, payload: bytes) -> None:
        """Forget the events the server committed: ``seqs`` are inclusive [first, last] runs."""
        try:
            ack = json.loads(payload)
            session, seqs = ack["session"], ack["seqs"]
            ranges = [(int(first), int(last)) for first, last in seqs]
            valid = isinstance(session, int) and all(
                isinstance(first, int) and isinstance(last, int) and 0 <= first <= last
                for first, last in seqs
            )
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            log.warning("%s: ignoring a malformed ack", self.device_id)
            return
        self.store.acked(session, ranges)

    def _handle_server_status(self, message: mqtt.MQTTMessage) -> None:
        try:
            state = json.loads(message.payload).get("state")
        except (ValueError, AttributeError):
            return
        # The copy retained at subscribe time needs no answer: birth went out on connect.
        rebirth = state == "online" and (self._seen_server_status or not message.retain)
        self._seen_server_status = True
        if rebirth:
            self._on_online()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _wake_pair() -> tuple[socket.socket, socket.socket]:
    read_end, write_end = socket.socketpair()
    read_end.setblocking(False)
    write_end.setblocking(False)
    return read_end, write_end


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
