"""One command sender for all the centres of a worker (``linli worker`` of a district).

A :class:`~devices.commands.dispatcher.CommandDispatcher` per centre, each with its own thread,
made a worker of 200 centres 200 threads polling the outbox and 200 beats every 5 s, each
taking a database connection (docs/scaling.md). Here the centres' dispatchers keep their
state (what each published, what waits for the broker's PUBACK, the link each records) but
run as lanes of ONE thread: it turns a lane when the lane was woken (a NOTIFY for its centre,
a resync queued by its bridge, its connection going up or down), when its beat is due or
when it has sends to record, and its fallback poll is one query for every centre at once.
So the commands use one connection at a time however many centres the worker serves.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from typing import Protocol

from sqlalchemy import select

from booking.core.clock import Clock
from booking.core.db import Database
from devices.commands import outbox as command_outbox
from devices.fleet import link_status
from devices.ingest import apply as ingest
from devices.models.links import LinkState
from devices.models.outbox import CommandOutbox

log = logging.getLogger(__name__)

# After publishing, how long to wait before recording the sends: the device's reply is
# usually committed by then, so the two writes do not queue behind each other.
MARK_SENT_AFTER_S = 0.05
OUTAGE_RETRY_S = 1.0


def report_failed_turn(error: Exception) -> None:
    """Log a sender's turn that raised (its thread goes on: the next turn tries again); a
    database outage is expected and said in one line, anything else with its traceback."""
    if ingest.is_outage(error):
        log.warning("database away; commands wait: %s", error)
    else:
        log.exception("sending queued commands failed")


class CommandDispatcher(Protocol):
    """A lane: :class:`devices.commands.dispatcher.CommandDispatcher`."""

    site: str

    def due(self) -> bool: ...

    def turn(self, woken: bool) -> None: ...

    def waiting(self) -> bool: ...

    def beat_due(self) -> link_status.Beat | None: ...

    def beaten(self, state: LinkState) -> None: ...


class DispatcherGroup:
    """The thread that runs every joined dispatcher's turns; started by the first to join."""

    def __init__(self, database: Database, *, fallback_poll: float | None = None) -> None:
        self.database = database
        self._fallback_poll = fallback_poll
        self._lock = threading.Lock()
        # Held while a lane turns: a dispatcher leaving waits for its turn to end.
        self._turning = threading.Lock()
        self._lanes: dict[int, CommandDispatcher] = {}
        self._woken: set[int] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pair: tuple[socket.socket, socket.socket] | None = None
        self._selector: selectors.BaseSelector | None = None
        self._next_poll = 0.0

    @property
    def lanes(self) -> int:
        with self._lock:
            return len(self._lanes)

    def join(self, dispatcher: CommandDispatcher, local: socket.socket | None) -> None:
        with self._lock:
            if self._thread is None:
                self._stop.clear()
                self._pair = socket.socketpair()
                for end in self._pair:
                    end.setblocking(False)
                self._selector = selectors.DefaultSelector()
                self._selector.register(self._pair[0], selectors.EVENT_READ, None)
                self._thread = threading.Thread(
                    target=self._run, name="linli-commands", daemon=True
                )
                self._thread.start()
            self._lanes[id(dispatcher)] = dispatcher
            if local is not None and self._selector is not None:
                self._selector.register(local, selectors.EVENT_READ, id(dispatcher))
        self.wake(dispatcher)  # look at once: commands may have waited while no bridge ran

    def leave(self, dispatcher: CommandDispatcher, local: socket.socket | None) -> None:
        """Take the lane out; returns once no turn of it runs."""
        with self._turning, self._lock:
            self._lanes.pop(id(dispatcher), None)
            self._woken.discard(id(dispatcher))
            if local is not None and self._selector is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(local)

    def wake(self, dispatcher: CommandDispatcher) -> None:
        """The lane turns now (from any thread, paho's callbacks too: never blocks)."""
        with self._lock:
            self._woken.add(id(dispatcher))
            pair = self._pair
        if pair is not None:
            with contextlib.suppress(OSError):
                pair[1].send(b"\0")

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            thread, pair = self._thread, self._pair
            self._thread = None
        if thread is None:
            return
        self._stop.set()
        if pair is not None:
            with contextlib.suppress(OSError):
                pair[1].send(b"\0")
        thread.join(timeout)
        with self._lock:
            if self._selector is not None:
                self._selector.close()
            for end in pair or ():
                end.close()
            self._pair, self._selector = None, None

    # --- the thread ------------------------------------------------------------------------------

    def _poll_every(self) -> float:
        return command_outbox.fallback_poll_s(self.database, self._fallback_poll)

    def _run(self) -> None:
        selector = self._selector
        assert selector is not None
        while not self._stop.is_set():
            try:
                self._poll()
                busy = self._turn_all()
            except Exception as error:
                report_failed_turn(error)
                self._stop.wait(OUTAGE_RETRY_S)
                busy = True
            timeout = MARK_SENT_AFTER_S if busy else min(1.0, self._poll_every())
            for key, _ in selector.select(timeout):
                if key.data is not None:
                    with self._lock:
                        self._woken.add(key.data)
                with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
                    while key.fileobj.recv(64):  # type: ignore[union-attr]
                        pass

    def _poll(self) -> None:
        """The fallback poll: one look for every centre's queued commands, not one a centre."""
        if time.monotonic() < self._next_poll:
            return
        self._next_poll = time.monotonic() + self._poll_every()
        with self.database.read_statements() as session:
            sites = set(session.scalars(select(CommandOutbox.site).distinct()))
        if not sites:
            return
        with self._lock:
            for key, lane in self._lanes.items():
                if lane.site in sites:
                    self._woken.add(key)

    def _turn_all(self) -> bool:
        """Turn every lane with something to do; whether any still waits for a PUBACK.

        The lanes woken first: a command waiting is someone waiting at a locker. Then the
        others' beats, due together every 5 s since the lanes joined together, in one write:
        one transaction a lane put a district's 200 beats in front of the next command."""
        with self._lock:
            lanes = list(self._lanes.items())
            woken, self._woken = self._woken, set()
        first = [(key, lane) for key, lane in lanes if key in woken]
        rest = [(key, lane) for key, lane in lanes if key not in woken]
        busy = self._turn(first, woken)
        if not self._stop.is_set():
            self._beat(rest)
        return self._turn(rest, woken) or busy

    def _beat(self, lanes: list[tuple[int, CommandDispatcher]]) -> None:
        with self._turning:  # a lane leaving must not have its last word overwritten
            with self._lock:
                due = [(lane, beat) for key, lane in lanes
                       if key in self._lanes and (beat := lane.beat_due()) is not None]  # fmt: skip
            if len(due) < 2:
                return  # a lane's own turn writes one beat as cheaply
            try:
                with self.database.write() as session:
                    link_status.record_links(session, [beat for _, beat in due])
            except Exception as error:
                if ingest.is_outage(error):
                    raise
                log.exception("the links' joint beat failed; each lane writes its own")
                return
        for lane, beat in due:
            lane.beaten(beat.state)

    def _turn(self, lanes: list[tuple[int, CommandDispatcher]], woken: set[int]) -> bool:
        busy = False
        for key, lane in lanes:
            if self._stop.is_set():
                break
            with self._turning:
                if key not in self._lanes:
                    continue  # left meanwhile
                try:
                    if key in woken or lane.due():
                        lane.turn(key in woken)
                except Exception as error:
                    with self._lock:
                        self._woken.add(key)  # again next time round
                    if ingest.is_outage(error):
                        raise  # every lane would fail alike: wait, then try again
                    # One centre's trouble must not hold up the others' commands.
                    log.exception("sending the queued commands of %s failed", lane.site)
            busy = busy or lane.waiting()
        return busy


class Shared:
    """What the bridges of a worker's centres share: a few committer threads and one command
    sender, so the worker's database connections do not grow with its centres, and one
    network thread (devices.network_loop), so neither do its threads."""

    def __init__(self, database: Database, clock: Clock | None = None) -> None:
        from devices.ingest.committers import Committers
        from devices.network_loop import NetworkLoop

        # The committers own the one clock of the worker's bridges (devices.bridge reads it).
        self.committers = Committers(database, clock)
        self.dispatchers = DispatcherGroup(database)
        self.network = NetworkLoop().start()

    def stop(self) -> None:
        self.dispatchers.stop()
        self.committers.stop()
        self.network.stop()
