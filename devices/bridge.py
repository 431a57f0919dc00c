"""The server's MQTT bridge: receive device messages, commit them, only then acknowledge.

paho's network thread only queues what arrives (``on_message``); one worker thread drains
the queue in batches, applies each batch in ONE write transaction (:mod:`devices.ingest.apply`)
and, after the commit, acknowledges every MQTT message (``manual_ack``: the broker keeps
redelivering until then) and publishes the protocol ``ack`` {session, seqs} naming the
batch's committed events of each device.
A crash before the commit loses nothing: the persistent session (``clean_session=False``, fixed
client id) redelivers, (device, session, seq) dedupes; of several workers, devices.sharing.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections import Counter, defaultdict, deque
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from booking.core.clock import Clock, SystemClock
from booking.core.db import Database
from devices.commands.dispatcher import CommandDispatcher
from devices.commands.group import DispatcherGroup
from devices.inbox import IDLE_WAIT_S, Inbox, Pubacks, Received
from devices.ingest.apply import Inbound
from devices.ingest.batch_commit import Committed, commit_batch
from devices.ingest.batch_process import BatchProcess
from devices.ingest.committers import Committers
from devices.ingest.reactions import Handlers
from devices.mqtt_client import BrokerUrl, Client, disable_nagle
from devices.network_loop import NetworkLoop
from devices.protocol import messages as protocol
from devices.sharing import Role, SubscribeWatch, server_client_id, server_status, subscriptions

log = logging.getLogger(__name__)

SERVER_USERNAME = "linli-server"
# Well under the broker's max_inflight_messages (1000): the next batch arrives while this one
# commits (bench/mqtt_ingest.py: CPU per event 183 µs at 200 (window 100) → 146 µs).
BATCH_SIZE = 500
# How long the worker waits for more after a batch's first message: none. A batch is what
# queued while the previous one committed, and a lone command reply is recorded at once.
BATCH_WAIT_S = 0.0
RETRY_DELAY_S = 1.0
# Batches sent to the commit process before the oldest is answered: the child never waits.
COMMITS_IN_FLIGHT = 2
# How often the worker looks for an answer while it could still take another batch.
ANSWER_POLL_S = 0.002


class Bridge:
    """One per worker (the ``linli worker``): ``start()``, later ``stop()``."""

    def __init__(
        self,
        database: Database,
        url: str,
        site: str,
        *,
        clock: Clock | None = None,
        handlers: Handlers | None = None,
        client_id: str | None = None,
        batch_size: int = BATCH_SIZE,
        batch_wait: float = BATCH_WAIT_S,
        retry_delay: float = RETRY_DELAY_S,
        keepalive: int = 30,
        commit_process_handlers: str | None = None,
        role: Role = Role.SOLE,
        committers: Committers | None = None,
        dispatchers: DispatcherGroup | None = None,
        network: NetworkLoop | None = None,
    ) -> None:
        """``commit_process_handlers`` (``module:function`` making the Handlers): commit the
        batches in a process of their own (:mod:`devices.ingest.batch_process`), as the ``linli
        worker`` of one centre does; the child keeps the system clock. Else ``committers``
        shared by a worker's bridges (:mod:`devices.ingest.committers`: the bridge reads their
        clock) or the worker thread commit, with ``handlers`` and ``clock``. ``dispatchers``:
        the worker's one command sender (:mod:`devices.commands.group`); ``network``: the
        worker's one network thread (:mod:`devices.network_loop`), else paho's own."""
        if not protocol.ID_PATTERN.match(site):
            raise ValueError(f"not a site slug: {site!r}")
        if commit_process_handlers is not None and (handlers is not None or clock is not None):
            raise ValueError("a commit process makes its own handlers and keeps the system clock")
        if committers is not None and clock not in (None, committers.clock):
            raise ValueError("a bridge of shared committers reads their clock, not one of its own")
        self.database = database
        self.site = site
        self.clock = clock or (committers.clock if committers is not None else SystemClock())
        self.handlers = handlers or Handlers()
        self.role = role
        self.client_id = client_id or server_client_id(site, role)
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self.retry_delay = retry_delay
        self._broker = BrokerUrl(url)
        self._keepalive = keepalive
        self._batches = (
            None
            if commit_process_handlers is None
            else BatchProcess(database.url, commit_process_handlers, retry_delay)
        )
        self._inbox = Inbox()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._committers = committers
        self._network = network
        self._lock = threading.Lock()
        self._generation = 0
        self._subscribing = SubscribeWatch()
        self.connected = threading.Event()
        # When the current connection began (None before the first): for operators, and for
        # bench/mqtt_ingest.py, which times from it.
        self.connected_at: datetime | None = None
        # Counters for operators and tests (read them with `counters()`).
        self._counts: Counter[str] = Counter()
        self._pubacks = Pubacks()
        self._client = self._make_client()
        # Every command, whoever issued it, is published by this bridge alone: the process
        # that records what the device answers (devices.commands.outbox).
        self._commands = CommandDispatcher(
            database,
            site,
            self.clock,
            client_id=self.client_id,
            send=self._send_command,
            connected=self.connected,
            count=self._count,
            group=dispatchers,
        )

    def _make_client(self) -> Client:
        client = Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=self.role.shared,  # devices.sharing says why
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        client.username_pw_set(self._broker.username or SERVER_USERNAME, self._broker.password)
        if self._broker.tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        if self.role.leads:
            client.will_set(**server_status(self.site, False, self.clock.now()))
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        # Acks go out in bursts as large as a batch. No limit (0) rather than a large one:
        # with a limit, paho scans every unacknowledged message on each PUBACK it receives
        # (Client._update_inflight), which made handling our acks' PUBACKs 45 % of the
        # network thread's time at 500 acks a batch. MQTT 3.1.1 has no receive maximum.
        client.max_inflight_messages_set(0)
        client.on_connect = self._on_connect
        client.on_subscribe = self._subscribing.answered  # then _subscribed
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_socket_open = disable_nagle
        return client

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self, connect_timeout: float = 10.0) -> Bridge:
        """Connect in the background and start the worker; waits for the first connection."""
        self._stop.clear()
        self._inbox.rearm()
        if self._batches is not None:
            self._batches.start()
        self._worker = threading.Thread(target=self._work, name="linli-bridge", daemon=True)
        self._worker.start()
        self._client.connect_async(self._broker.host, self._broker.port, self._keepalive)
        if self._network is not None:
            self._network.add(self._client)
        else:
            self._client.loop_start()
        if self.role.leads:
            self._commands.start()
        self.connected.wait(connect_timeout)
        return self

    def stop(self, timeout: float = 5.0, *, say_offline: bool = True, drain_s: float = 0.0,
             drain_cut: threading.Event | None = None) -> None:  # fmt: skip
        """Say offline (a clean disconnect sends no Will) unless told not to
        (:class:`~devices.sharing.BridgeStop`), disconnect, stop the worker.

        Messages received but not yet committed are not acknowledged, so the broker
        delivers them again to the next bridge; except that a broker drops what was in
        flight to a clean session's shared subscription, and a device whose event was
        dropped is asked to resync. ``drain_s``: first unsubscribe, then commit and
        acknowledge everything received, for at most that long (a follower making way for
        its worker's leader, docs/scaling.md item 5), or until ``drain_cut`` is set.
        """
        if drain_s > 0 and self.connected.is_set():
            unsubscribed = threading.Event()
            self._client.on_unsubscribe = lambda *args: unsubscribed.set()
            self._client.unsubscribe(subscriptions(self.site, self.role))
            deadline = time.monotonic() + drain_s
            # After the UNSUBACK nothing more comes: what was sent before it came before it.
            # In steps of a second: a connection lost or a cut meanwhile ends the wait.
            while self.connected.is_set() and not (drain_cut and drain_cut.is_set()):
                if (left := deadline - time.monotonic()) <= 0:
                    break
                step = min(left, 1.0)
                if unsubscribed.wait(step) and self._inbox.wait_drained(step):
                    break
        self._stop.set()
        self._inbox.wake()  # the worker sees the stop now, not at the end of its wait
        # First: no command goes out that this bridge would not be there to record.
        if self.role.leads:
            self._commands.stop(timeout)
        if self._worker is not None:
            self._worker.join(timeout)
            self._worker = None
        if self._batches is not None:
            self._batches.stop(timeout)
        if self.connected.is_set() and self.role.leads and say_offline:
            info = self._client.publish(**server_status(self.site, False, self.clock.now()))
            # Best effort: had the connection gone meanwhile, the broker published our Will.
            self._pubacks.track(info.mid).wait(timeout)
        self._client.disconnect()
        if self._network is not None:
            self._network.remove(self._client, timeout)
        else:
            self._client.loop_stop()
        self.connected.clear()
        # Of several workers, each applied its share: the operator (and a test) can compare.
        n = self.counters()
        log.info("bridge %s stopped (%s): received %d, applied %d, duplicates %d", self.client_id,
                 self.role.value, n["received"], n.get("applied", 0), n.get("duplicates", 0))  # fmt: skip

    def counters(self) -> dict[str, int]:
        """Received, applied, duplicates, acks and ``dead_letter.<reason>`` counts."""
        with self._lock:
            counts = dict(self._counts)
        counts["received"] = self._inbox.received
        return counts

    def _count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    # --- paho callbacks (network thread: never block, never wait for a publish here) --------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            log.error("broker refused the bridge: %s", reason_code)
            return
        with self._lock:
            self._generation += 1
        # Every time, whatever session-present says: a broker that lost its state (crash,
        # new volume) would otherwise leave us connected and deaf.
        filters = subscriptions(self.site, self.role)
        mid = client.subscribe([(topic, 1) for topic in filters])[1]
        self._subscribing.sent(mid, filters, then=lambda: self._subscribed(flags.session_present))
        if self.role.leads:
            rebirth = self.role.asks_rebirth or self.connected_at is not None
            client.publish(**server_status(self.site, True, self.clock.now(), rebirth=rebirth))
        self.connected_at = self.clock.now()

    def _subscribed(self, session_present: bool) -> None:
        # Connected means able to hear: before the broker's SUBACK a follower's shared
        # messages all go to the group's other members, and a reply could beat its filter.
        self.connected.set()
        self._commands.wake()  # the web offers lockers once the link is recorded connected
        log.info("bridge connected and subscribed (session present: %s)", session_present)

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        with self._lock:
            self._generation += 1
        self.connected.clear()
        self._commands.wake()
        if not self._stop.is_set():
            log.warning("bridge disconnected: %s", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # The generation changes only in this thread's other callbacks: no lock to read it.
        self._inbox.put(
            Received(
                Inbound(message.topic, bytes(message.payload), self.clock.now(), message.retain),
                message.mid,
                message.qos,
                self._generation,
            )
        )
        if self._committers is not None and message.topic.endswith("/reply"):
            self._committers.nudge()  # the batch it waits behind may be waiting there

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        # Called under paho's own locks: never call back into the client here.
        self._pubacks.arrived(mid)

    # --- the worker ----------------------------------------------------------------------------

    def _work(self) -> None:
        if self._batches is not None:
            self._work_with_commit_process(self._batches)
            return
        while not self._stop.is_set():
            batch = self._inbox.take(self.batch_size, self.batch_wait, IDLE_WAIT_S)
            if not batch:
                continue
            committed = self._commit(batch)
            if committed is None:
                return  # stopping before the commit: the broker redelivers the batch
            self._after_commit(batch, committed)

    def _work_with_commit_process(self, batches: BatchProcess) -> None:
        """Keep the commit process busy: the next batch is sent while the last commits, and
        the answers, in order, release each batch's acknowledgements."""
        sent: deque[list[Received]] = deque()
        while not self._stop.is_set():
            if len(sent) < COMMITS_IN_FLIGHT:
                idle = IDLE_WAIT_S if not sent else 0.0
                batch = self._inbox.take(self.batch_size, self.batch_wait, idle)
                if batch:
                    batches.submit([received.inbound for received in batch])
                    sent.append(batch)
                    continue
            if sent:
                # Short while more could be taken, longer when the pipeline is full.
                wait = ANSWER_POLL_S if len(sent) < COMMITS_IN_FLIGHT else 0.2
                committed = batches.answer(wait, self._stop.is_set)
                if committed is not None:
                    self._after_commit(sent.popleft(), committed)
        # Stopping: what was sent and not answered stays unacknowledged; the broker
        # delivers it again to the next bridge.

    def _commit(self, batch: list[Received]) -> Committed | None:
        """The batch applied and committed in this thread; None if stopping first."""
        items = [received.inbound for received in batch]
        if self._committers is not None:
            return self._committers.commit(items, self.handlers, retry_delay=self.retry_delay,
                                           stop=self._stop, hurry=self._inbox.reply_waits)  # fmt: skip
        return commit_batch(self.database, items, self.clock, self.handlers,
                            retry_delay=self.retry_delay, stopping=self._stop.wait)  # fmt: skip

    def _after_commit(self, batch: list[Received], outcome: Committed) -> None:
        with self._lock:
            generation = self._generation
            # Under the lock, so no reconnect can slip in between the check and the PUBACKs.
            # Subscribed at QoS 1: nothing comes at 2 (MQTT 3.1.1 §3.8.4), and QoS 0 has no ack.
            mids = (r.mid for r in batch if r.qos == 1 and r.generation == generation)
            self._client.ack_many(mids)
        self._count("applied", outcome.applied)
        self._count("duplicates", outcome.duplicates)
        if outcome.retries:
            self._count("retries", outcome.retries)
        for reason, n in outcome.dead_letters.items():
            self._count(f"dead_letter.{reason}", n)
        # One ack message per device and session for the whole batch, not one per event: a
        # publish and its PUBACK per event were the larger part of the bridge's network work.
        seqs_by_session: dict[tuple[str, str, int], list[int]] = defaultdict(list)
        for ack in outcome.acks:
            seqs_by_session[(ack.site, ack.device, ack.session)].append(ack.seq)
        for (site, device, session), seqs in seqs_by_session.items():
            for payload in protocol.ack_payloads(session, seqs):
                self._publish(protocol.device_topic(site, device, "ack"), payload, "ack")
        for topic in outcome.clear_retained:
            # An empty retained payload deletes the broker's copy (MQTT 3.1.1 §3.3.1.3), so a
            # retained event is not replayed to every later subscription (docs/protocol.md §2).
            self._client.publish(topic, b"", qos=1, retain=True)
            self._count("cleared_retained")

    def _publish(self, topic: str, payload: bytes, kind: str) -> mqtt.MQTTMessageInfo | None:
        # Never retained: an ack or command replayed to a reconnecting device would lie.
        info = self._client.publish(topic, payload, qos=1, retain=False)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            log.warning("publish of %s to %s refused by the client: %s", kind, topic, info.rc)
            return None
        self._count(f"published.{kind}")
        return info

    def _send_command(self, topic: str, payload: bytes) -> threading.Event | None:
        """For the dispatcher: publish a command; the event is set on the broker's PUBACK."""
        info = self._publish(topic, payload, "command")
        return None if info is None else self._pubacks.track(info.mid)
