"""Between paho's network thread and the bridge's worker: the messages received, taken in
batches, and the broker's PUBACKs for what the bridge published.

The network thread must never block (it also sends our acks and PUBACKs), so it only appends
and signals; the worker waits and takes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import NamedTuple

from devices.ingest.apply import Inbound

# While waiting (batch_wait > 0): how long without a new message ends the batch early.
BATCH_IDLE_S = 0.005
# How long an idle worker waits for a message before it looks again. Stopping wakes it at once
# (Inbox.wake), so this is only a safety net: at 0.2 s, each of a district worker's 200 idle
# bridges woke five times a second, 1,000 wake-ups a second for nothing (docs/benchmarks.md).
IDLE_WAIT_S = 5.0


class Received(NamedTuple):
    inbound: Inbound
    mid: int
    qos: int
    # The connection it arrived on: a PUBACK for it on a later connection would ack another.
    generation: int


class Inbox:
    """What the network thread received, for the worker (a deque: appending and popping need
    no lock, unlike queue.Queue's two per message)."""

    def __init__(self) -> None:
        self._messages: deque[Received] = deque()
        self._arrived = threading.Event()
        # True while the worker waits for the inbox: only then must a message wake it.
        self._worker_waiting = False
        # Set while the worker waits with nothing to do, for wait_drained().
        self._idle = threading.Event()
        # Set by wake() (the bridge stopping), until rearm(): no wait may begin meanwhile.
        self._woken = False
        # Written by the network thread alone, so it needs no lock.
        self.received = 0
        # Replies put (by the network thread) and taken (by the worker): each counter has one
        # writer, so neither needs a lock; they differ while a reply is queued.
        self._replies_put = 0
        self._replies_taken = 0

    def put(self, message: Received) -> None:
        """From the network thread."""
        self.received += 1
        if is_reply(message):
            self._replies_put += 1
        self._messages.append(message)
        # After the append: a worker that saw the inbox empty has said it waits by now.
        if self._worker_waiting:
            self._arrived.set()

    def wake(self) -> None:
        """From any thread (the bridge stopping): end the worker's wait now, and every wait
        until :meth:`rearm`, so the worker sees the stop without polling for it."""
        self._woken = True
        self._arrived.set()

    def wait_drained(self, timeout: float) -> bool:
        """Wait up to ``timeout`` until everything put was taken and the worker is done with
        it: it waits for more (its last batch committed and acknowledged). Blocking, not
        polling: 200 centres' bridges draining at once at a takeover polled 4,000 times a
        second, on the machine whose scheduler lock's ping must not be starved."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if not self._idle.wait(left):
                return False
            if not self._messages:
                return True
            time.sleep(0.01)  # a message came as it went idle: it is being taken
        return False

    def rearm(self) -> None:
        """Waits wait again (the bridge starting)."""
        self._woken = False

    def _wait(self, timeout: float) -> bool:
        """Whether a message is in the inbox, waiting up to ``timeout`` for one (not at all
        once woken)."""
        if self._messages:
            return True
        self._arrived.clear()
        # Said before looking again, so a message appended after this look wakes us; not when
        # it will not wait (a glance between batches is not idleness).
        self._worker_waiting = timeout > 0
        try:
            # _woken is looked at after the clear: a wake() before it is not lost.
            if not self._messages and not self._woken:
                if timeout > 0:
                    self._idle.set()
                self._arrived.wait(timeout)
        finally:
            self._idle.clear()
            self._worker_waiting = False
        return bool(self._messages)

    def take(self, batch_size: int, batch_wait: float, wait: float) -> list[Received]:
        """Up to ``batch_size`` messages, waiting ``wait`` for the first and ``batch_wait``
        for more (none by default: a batch is what queued up meanwhile)."""
        if not self._wait(wait):
            return []
        batch: list[Received] = []
        deadline = time.monotonic() + batch_wait
        while len(batch) < batch_size:
            if self._messages:
                batch.append(self._messages.popleft())
                continue
            if batch_wait <= 0:
                break
            left = deadline - time.monotonic()
            if left <= 0 or not self._wait(min(left, BATCH_IDLE_S)):
                break
        self._replies_taken += sum(1 for message in batch if is_reply(message))
        return batch

    def reply_waits(self) -> bool:
        """Whether a reply was put and not yet taken (from any thread: an answer a moment
        stale only delays the reply a moment)."""
        return self._replies_put != self._replies_taken


def is_reply(message: Received) -> bool:
    # linli/v1/{site}/{device}/reply: a device's answer to a command.
    return message.inbound.topic.endswith("/reply")


class Pubacks:
    """The broker's PUBACKs by message id, for publishers that wait for delivery.

    Delivery is told by on_publish, by mid: ``MQTTMessageInfo.is_published()`` raises for a
    message published while disconnected, even once it went out after the reconnect.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._awaiting: dict[int, threading.Event] = {}
        # PUBACKs that came before their publisher asked (or that nobody asks about: acks).
        self._early: deque[int] = deque(maxlen=1024)

    def arrived(self, mid: int) -> None:
        """From paho's on_publish (under paho's own locks: never call into the client)."""
        with self._lock:
            done = self._awaiting.pop(mid, None)
            if done is None:
                self._early.append(mid)
        if done is not None:
            done.set()

    def track(self, mid: int) -> threading.Event:
        """An event set once the broker has acknowledged the message ``mid`` (QoS 1)."""
        done = threading.Event()
        with self._lock:
            if mid in self._early:
                self._early.remove(mid)
                done.set()
            else:
                self._awaiting[mid] = done
        return done
