"""A few committer threads shared by the bridges of a worker of many centres.

Each centre's bridge committing in a thread of its own made a worker of 200 centres 200
threads each wanting a database connection at once (docs/scaling.md). Here a bridge hands its
batch to a :class:`Committers` and waits for the outcome, exactly as it waits for its own
commit: it acknowledges nothing before the commit, and sends its next batch only after, so a
centre's (and so a device's) messages are still applied in order. At most ``threads`` (and
``reply_threads``) transactions run at once, so the commits hold at most that many
connections however many centres the worker serves.

A committer takes every batch waiting when it is free (up to ``max_items`` messages) and
commits them in one transaction (:func:`~devices.ingest.batch_commit.commit_batches`), each
bridge still answered with its own batch's outcome. Most of a district's centres are quiet,
their batches one or two events, and a transaction each cost more than the events in it.

Except that a batch holding a device's ``reply`` goes first, with only the other such
batches, and so does a batch behind which a reply waits at its bridge (which sends its next
batch only once this one is committed): someone is waiting for it (a resident at a locker's
door). Lockers that connected together (a broker restart, a power cut) heartbeat together,
and in the district benchmark such a burst of every centre's heartbeats made joint
transactions of tens of milliseconds of CPU (400 heartbeats 42–104 ms); an answer arriving
then waited for the one holding its bridge's previous batch and then, joined with the rest of
the burst, for another (docs/benchmarks.md, eleventh session). Replies are a few a second, so
the joint commits lose next to nothing.

And one more committer takes only those urgent batches. In the 200-centre district bench all
four were in joint transactions of up to 500 messages when a reply came, and the reply waited
4–6 s (median) for its transaction to begin; with this committer, 0.1–0.3 s
(docs/benchmarks.md, twenty-sixth session).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field

from booking.core.clock import Clock, SystemClock
from booking.core.db import Database
from devices.ingest.apply import Inbound
from devices.ingest.batch_commit import Committed, commit_batches
from devices.ingest.reactions import Handlers

# Enough to keep PostgreSQL's commits (each an fsync) overlapping on a small machine; more
# would only contend for the one interpreter's GIL.
COMMITTER_THREADS = 4
# Besides those: the committer kept for the batches someone waits for (a reply's). Idle but
# for a few transactions a second, and so free when a reply comes.
REPLY_COMMITTERS = 1
# Messages in one joint transaction: a bridge's own batch is at most as many (devices.bridge).
MAX_ITEMS = 500
# How often a waiting bridge looks whether it was told to stop.
_STOP_POLL_S = 0.2


@dataclass
class _Waiting:
    items: list[Inbound]
    handlers: Handlers
    retry_delay: float
    stop: threading.Event
    # Whether a reply now waits behind this batch at its bridge: then it is as urgent.
    hurry: Callable[[], bool] | None = None
    future: Future[Committed | None] = field(default_factory=Future)

    holds_reply: bool = field(init=False)

    def __post_init__(self) -> None:
        # linli/v1/{site}/{device}/reply: a device's answer to a command.
        self.holds_reply = any(item.topic.endswith("/reply") for item in self.items)

    @property
    def urgent(self) -> bool:
        return self.holds_reply or (self.hurry is not None and self.hurry())

    @property
    def site(self) -> str:
        # linli/v1/{site}/…: every message of a bridge's batch is of its centre.
        return self.items[0].topic.split("/")[2] if self.items else ""


class Committers:
    """``commit(...)`` from any bridge's thread; ``stop()`` when the worker's bridges stop."""

    def __init__(
        self,
        database: Database,
        clock: Clock | None = None,
        threads: int = COMMITTER_THREADS,
        max_items: int = MAX_ITEMS,
        reply_threads: int = REPLY_COMMITTERS,
    ) -> None:
        if threads < 1:
            raise ValueError("at least one committer thread")
        self.database = database
        # One clock for every bridge's batches: a joint transaction has one ``now``. A clock
        # each bridge brought, compared when batches were joined, kept every transaction to
        # one centre's batch, as each bridge of `linli worker` had a SystemClock of its own.
        self.clock = clock or SystemClock()
        self.threads = threads
        self.max_items = max_items
        self._waiting: deque[_Waiting] = deque()
        lock = threading.Lock()
        self._changed = threading.Condition(lock)
        # Told of an urgent batch only: the reply committers wait on it.
        self._urgent = threading.Condition(lock)
        self._stopped = threading.Event()
        self._threads = [
            threading.Thread(target=self._serve, name=f"linli-commit-{n}", daemon=True)
            for n in range(threads)
        ] + [
            threading.Thread(target=self._serve, args=(True,), name=f"linli-commit-reply-{n}",
                             daemon=True)
            for n in range(reply_threads)
        ]  # fmt: skip
        for thread in self._threads:
            thread.start()

    def commit(
        self,
        items: Sequence[Inbound],
        handlers: Handlers,
        *,
        retry_delay: float,
        stop: threading.Event,
        hurry: Callable[[], bool] | None = None,
    ) -> Committed | None:
        """The batch applied and committed by one of the committers; None if ``stop`` was set
        before it was (then nothing of it is committed, and the broker redelivers it).
        ``hurry``: whether a reply now waits at the bridge behind this batch."""
        waiting = _Waiting(list(items), handlers, retry_delay, stop, hurry)
        with self._changed:
            if self._stopped.is_set():
                return None
            self._waiting.append(waiting)
            self._changed.notify()
            # Urgent by a reply behind it too: one that arrived as this batch was being handed
            # over nudged before the batch was here to hurry.
            if waiting.urgent:
                self._urgent.notify()
        return wait_for(waiting.future, stop)

    def nudge(self) -> None:
        """A reply reached a bridge (from its network thread): a batch of that bridge waiting
        here may have become urgent."""
        with self._changed:
            self._urgent.notify()

    def stop(self) -> None:
        with self._changed:
            self._stopped.set()
            for waiting in self._waiting:
                waiting.future.cancel()
            self._waiting.clear()
            self._changed.notify_all()
            self._urgent.notify_all()
        for thread in self._threads:
            thread.join()

    def _take(self, replies_only: bool) -> list[_Waiting] | None:
        """The batches to commit together (oldest first, at most ``max_items``
        messages, at least one batch; only the urgent ones while any waits, or for a reply
        committer); None once stopped."""
        with self._changed:
            while not self._stopped.is_set():
                urgent = [waiting.urgent for waiting in self._waiting]
                # Anything waiting for a committer; only what is urgent for a reply committer.
                if urgent and (not replies_only or any(urgent)):
                    break
                (self._urgent if replies_only else self._changed).wait()
            if self._stopped.is_set():
                return None
            taken: list[_Waiting] = []
            size = 0
            kept: deque[_Waiting] = deque()
            urgent_only = any(urgent)
            for is_urgent in urgent:
                waiting = self._waiting.popleft()
                fits = (is_urgent or not urgent_only) and (
                    not taken or size + len(waiting.items) <= self.max_items
                )
                if not fits:
                    kept.append(waiting)
                elif waiting.future.set_running_or_notify_cancel():
                    taken.append(waiting)
                    size += len(waiting.items)
            self._waiting.extendleft(reversed(kept))
            return taken

    def _serve(self, replies_only: bool = False) -> None:
        while (taken := self._take(replies_only)) is not None:
            if not taken:
                continue

            def stopping(delay: float, taken: list[_Waiting] = taken) -> bool:
                # While the database is away: give up only when every bridge stopped, or the
                # worker; its batches' messages stay unacknowledged and come again.
                if self._stopped.wait(delay):
                    return True
                return all(waiting.stop.is_set() for waiting in taken)

            try:
                # In the order of their centres: every transaction then locks devices centre
                # by centre (and by device id within one, devices.ingest.apply), so two
                # workers' joint transactions never wait for each other in a circle.
                taken.sort(key=lambda waiting: waiting.site)
                done = commit_batches(
                    self.database,
                    [(waiting.items, waiting.handlers) for waiting in taken],
                    self.clock,
                    retry_delay=min(waiting.retry_delay for waiting in taken),
                    stopping=stopping,
                )
            except BaseException as error:  # never leave a bridge waiting for ever
                for waiting in taken:
                    waiting.future.set_exception(error)
                continue
            for n, waiting in enumerate(taken):
                waiting.future.set_result(None if done is None else done[n])


def wait_for(future: Future[Committed | None], stop: threading.Event) -> Committed | None:
    """The outcome; on ``stop``, None if the batch had not begun (it never will). One that had
    begun is waited for: its commit, and then its acknowledgements, must not be lost."""
    while True:
        try:
            return future.result(_STOP_POLL_S)
        except TimeoutError:
            if stop.is_set() and future.cancel():
                return None
        except CancelledError:
            return None  # the committers stopped before it began: nothing of it committed
