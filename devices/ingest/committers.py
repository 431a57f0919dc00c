"""A few committer threads shared by the bridges of a worker of many centres.

Each centre's bridge committing in a thread of its own made a worker of 200 centres 200
threads each wanting a database connection at once (docs/scaling.md). Here a bridge hands its
batch to a :class:`Committers` and waits for the outcome, exactly as it waits for its own
commit: it acknowledges nothing before the commit, and sends its next batch only after, so a
centre's (and so a device's) messages are still applied in order. At most ``threads`` batches
commit at once, so the commits hold at most that many connections however many centres the
worker serves.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor

from booking.core.clock import Clock
from booking.core.db import Database
from devices.ingest.apply import Inbound
from devices.ingest.batch_commit import Committed, commit_batch
from devices.ingest.reactions import Handlers

# Enough to keep PostgreSQL's commits (each an fsync) overlapping on a small machine; more
# would only contend for the one interpreter's GIL.
COMMITTER_THREADS = 4
# How often a waiting bridge looks whether it was told to stop.
_STOP_POLL_S = 0.2


class Committers:
    """``commit(...)`` from any bridge's thread; ``stop()`` when the worker's bridges stop."""

    def __init__(self, database: Database, threads: int = COMMITTER_THREADS) -> None:
        if threads < 1:
            raise ValueError("at least one committer thread")
        self.database = database
        self.threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="linli-commit")

    def commit(
        self,
        items: Sequence[Inbound],
        clock: Clock,
        handlers: Handlers,
        *,
        retry_delay: float,
        stop: threading.Event,
    ) -> Committed | None:
        """The batch applied and committed by one of the committers; None if ``stop`` was set
        before it was (then nothing of it is committed, and the broker redelivers it)."""
        future: Future[Committed | None] = self._pool.submit(
            commit_batch, self.database, list(items), clock, handlers,
            retry_delay=retry_delay, stopping=stop.wait,
        )  # fmt: skip
        return wait_for(future, stop)

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


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
