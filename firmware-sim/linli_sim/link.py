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
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from linli_sim import socket_loop
from linli_sim.outbox import DeviceStore
from linli_sim.reordering import Reversal
from linli_sim.resend import ResendPace
from linli_sim.wire import (
    BrokerAddress,
    Clock,
    encode,
    heartbeat_payload,
    parse_ack,
    sequenced_payload,
    status_payload,
    system_clock,
)

log = logging.getLogger(__name__)

KEEPALIVE_S = 30


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
        client_id: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.client_id = client_id or device_id
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
        self._resend = ResendPace(resend_interval)
        # Faults: the last seq'd message as sent, and messages held back to be sent reversed.
        self._last_sent: tuple[str, bytes] | None = None
        self._reversed = Reversal()
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
        self._wake_r, self._wake_w = socket_loop.wake_pair()
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

    def publish(
        self, suffix: str, body: dict[str, Any], *, retain: bool = False
    ) -> dict[str, Any] | None:
        """Publish a seq'd message (birth, state, reply). Dropped when offline: a lost state is
        replaced by the next birth, and it takes no seq, so no gap is made."""
        with self._publish_lock:
            if not self._connected.is_set():
                return None
            session, seq = self.store.take_seq()
            payload = sequenced_payload(self.device_id, session, seq, self.clock(), body)
            self._send_seqd(suffix, encode(payload), retain)
            return payload

    def publish_event(self, body: dict[str, Any]) -> dict[str, Any]:
        """Keep the event durably first, then publish it (when connected)."""
        with self._publish_lock:
            session, seq = self.store.take_seq()
            payload = sequenced_payload(self.device_id, session, seq, self.clock(), body)
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
            self._reversed.hold(count)

    def _send_seqd(self, suffix: str, payload: bytes, retain: bool) -> None:
        for item in self._reversed.send((suffix, payload, retain)):
            self._send_now(*item)

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
        return encode(status_payload(self.device_id, session, state, self.clock()))

    def _connect(self) -> mqtt.Client:
        session = self.store.begin_session()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
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
        socket_loop.no_delay(client)
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
                    self._stopping.wait(socket_loop.backoff(failures))
                    continue
            client = self._client
            if self._kill_requested.is_set():
                self._kill_requested.clear()
                socket_loop.kill_socket(client)
            rc = socket_loop.loop_once(client, self._wake_r)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._lost()
                failures += 1
                self._stopping.wait(socket_loop.backoff(failures))
                continue
            if self._connected.is_set():
                failures = 0
                self._periodic(client)
                self._drain(client)
        self._shutdown()
        for end in (self._wake_r, self._wake_w):
            if end is not None:
                end.close()

    def _periodic(self, client: mqtt.Client) -> None:
        now = time.monotonic()
        if now - self._last_heartbeat >= self.heartbeat_s:
            self._last_heartbeat = now
            heartbeat = heartbeat_payload(self.device_id, self.session, self.clock())
            self._outgoing.put((self.topic("heartbeat"), encode(heartbeat), 0, False))
        if self._resend.due(now):
            self._resend.round_done(now, self.resend_unacked())

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
            socket_loop.kill_socket(client)
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
        self._resend.start_over(time.monotonic())
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
        ack = parse_ack(payload)
        if ack is None:
            log.warning("%s: ignoring a malformed ack", self.device_id)
            return
        if self.store.acked(*ack) == 0:
            self._resend.start_over(time.monotonic())

    def _handle_server_status(self, message: mqtt.MQTTMessage) -> None:
        try:
            status = json.loads(message.payload)
            online = status.get("state") == "online"
        except (ValueError, AttributeError):
            return
        # The copy retained at subscribe time needs no answer: birth went out on connect.
        if online and (self._seen_server_status or not message.retain):
            if status.get("rebirth") is not False:  # false: a takeover (docs/protocol.md §4)
                self._on_online()
            self._resend.start_over(time.monotonic())  # not the wait grown while it was away
        self._seen_server_status = True
