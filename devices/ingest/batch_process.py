"""The bridge's batches committed in a process of its own.

paho's network thread and the worker that validates and stores messages share one GIL when
they share a process: the bridge then costs about twice a bare subscriber's CPU per message,
and receives at about half its rate (docs/benchmarks.md, MQTT ingest). With the commits in a
child process, the bridge's process only receives, hands batches over and acknowledges, and
both run at once on two cores.

The contract stays the bridge's: a message is acknowledged (PUBACK, protocol ack) only after
the child reports its batch committed. If the child dies, another starts and is sent the same
batch again; the ledger applies each message once, so a batch committed just before the
death is answered as duplicates. Stopping does not wait for a batch in hand: its messages stay
unacknowledged and the broker delivers them again.
"""

from __future__ import annotations

import gc
import importlib
import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from booking.core.clock import SystemClock
from booking.core.db import Database
from devices.ingest.apply import Inbound
from devices.ingest.batch_commit import Committed, commit_batch
from devices.ingest.reactions import Handlers

log = logging.getLogger(__name__)

# A child has imported what it needs and opened the database.
READY = "ready"
# Importing the domain and opening the database, on a slow machine.
START_TIMEOUT_S = 60.0


def load_handlers(factory: str) -> Handlers:
    """``module:function`` → the Handlers that function makes (in the child's own imports)."""
    module_name, _, function_name = factory.partition(":")
    made = getattr(importlib.import_module(module_name), function_name)()
    if not isinstance(made, Handlers):
        raise TypeError(f"{factory} made a {type(made).__name__}, not Handlers")
    return made


class ParentLine:
    """The child's end of the pipe: batches in order, and whether the parent said stop.

    While a commit waits to be retried (the database away), the parent may already have sent
    the next batch: that is kept for later, not taken for a stop.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._queued: deque[list[Inbound]] = deque()
        self.stopped = False

    def next_batch(self) -> list[Inbound] | None:
        """The next batch to commit, waiting for it; None once the parent said stop."""
        if self._queued:
            return self._queued.popleft()
        if self.stopped:
            return None
        try:
            message: list[Inbound] | None = self._connection.recv()
        except EOFError:
            message = None
        if message is None:
            self.stopped = True
        return message

    def wait_for_stop(self, delay: float) -> bool:
        """Wait ``delay`` seconds, keeping batches that arrive; True if told to stop."""
        deadline = time.monotonic() + delay
        while not self.stopped:
            left = deadline - time.monotonic()
            if left <= 0 or not self._connection.poll(left):
                return False
            try:
                message = self._connection.recv()
            except EOFError:
                message = None
            if message is None:
                self.stopped = True
            else:
                self._queued.append(message)
        return True


def _serve(
    connection: Connection, database_url: str, handlers_factory: str, retry_delay: float
) -> None:
    """The child: commit each batch the parent sends, answer with what was committed."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    database = Database(database_url)
    handlers = load_handlers(handlers_factory)
    clock = SystemClock()
    # What the child has made by now it keeps for its whole life (the modules, the mappers,
    # the engine): left out of the collector's passes, as kiosk.warm_process does for the
    # worker, instead of visited again and again while it commits. Measured: 8-10 µs of the
    # child's CPU a message in bench/mqtt_ingest.py (docs/benchmarks.md, twentieth session).
    gc.freeze()
    connection.send(READY)
    parent = ParentLine(connection)
    try:
        while (items := parent.next_batch()) is not None:
            committed = commit_batch(
                database,
                items,
                clock,
                handlers,
                retry_delay=retry_delay,
                stopping=parent.wait_for_stop,
            )
            if committed is None:
                return
            connection.send(committed)
    finally:
        database.dispose()


class BatchProcess:
    """The parent's side: ``start()``, ``submit(items)`` each batch and take the
    ``answer(...)`` of each, in order; ``stop()``."""

    def __init__(self, database_url: str, handlers_factory: str, retry_delay: float) -> None:
        self.database_url = database_url
        self.handlers_factory = handlers_factory
        self.retry_delay = retry_delay
        # Spawned, not forked: the parent has threads (paho's), which a fork would copy
        # mid-flight with their locks.
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        # Sent and not yet answered, oldest first: sent again to a replacement child.
        self._pending: deque[list[Inbound]] = deque()
        self.restarts = 0

    def start(self, timeout: float = START_TIMEOUT_S) -> BatchProcess:
        """Start the child and wait until it is ready to commit (it imports the domain and
        opens the database first: about a second); RuntimeError if it cannot."""
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child, self.database_url, self.handlers_factory, self.retry_delay),
            name="linli-bridge-commits",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._connection = process, parent
        try:
            ready = parent.poll(timeout) and parent.recv() == READY
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._close()
            raise RuntimeError(
                f"the bridge's commit process did not start ({self.handlers_factory})"
            )
        return self

    def submit(self, items: Sequence[Inbound]) -> None:
        """Send a batch to be committed after those already sent (answers come in order)."""
        batch = list(items)
        self._pending.append(batch)
        try:
            if self._connection is None or self._process is None:
                self._ensure_child()  # sends every unanswered batch, this one included
            else:
                self._connection.send(batch)
        except (EOFError, OSError) as error:
            self._lost(error)  # the next answer() starts a child and sends it again

    def answer(self, timeout: float, stopping: Callable[[], bool]) -> Committed | None:
        """The oldest sent batch's commit, waiting up to ``timeout``; None if not yet (or if
        ``stopping()``). A child that died is replaced and sent every unanswered batch again,
        in order: the ledger answers any it had committed as duplicates."""
        if not self._pending or stopping():
            return None
        try:
            self._ensure_child()
            assert self._connection is not None and self._process is not None
            if self._connection.poll(timeout):
                committed: Committed = self._connection.recv()
                self._pending.popleft()
                return committed
            if not self._process.is_alive():
                raise EOFError("the commit process died")
        except (EOFError, OSError) as error:
            self._lost(error)
        return None

    def _ensure_child(self) -> None:
        if self._connection is not None and self._process is not None:
            return
        self._close()
        self.restarts += 1
        try:
            self.start()
        except RuntimeError as error:
            raise EOFError(str(error)) from error
        assert self._connection is not None
        for batch in self._pending:
            self._connection.send(batch)

    def _lost(self, error: BaseException) -> None:
        log.error("the bridge's commit process failed (%s); starting another", error)
        self._close()
        # A child that dies at once (a bad import, say) must not be respawned in a tight loop.
        time.sleep(min(self.retry_delay, 1.0))

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._process is not None:
            self._process.join(0.1)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(1)
            self._process = None

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the child to finish; kill it if it does not within ``timeout``."""
        if self._connection is not None:
            try:
                self._connection.send(None)
            except OSError:
                pass
        if self._process is not None:
            self._process.join(timeout)
        self._close()
        # Unanswered batches stay unacknowledged: the broker delivers them to the next start.
        self._pending.clear()
