"""The bridge's command sender: takes queued commands and publishes them, and tells the web
that the link is alive.

It runs as a thread of the :class:`~devices.bridge.Bridge`, the one process that records what
devices answer, so every command it sends has its reply and door events recorded. Each turn
it

- while connected, reads the site's queued commands (:func:`devices.commands.outbox.queued`)
  and publishes them at once, dropping any past its expiry. While disconnected it takes
  nothing: a command left queued is sent on reconnection if still in time, never after;
- records the link (:func:`devices.fleet.link_status.record_link`) when the broker connection
  changes, and beats it every :data:`~devices.fleet.link_status.BEAT_EVERY` otherwise;
- a little after publishing, deletes the rows taken and marks as ``sent`` the commands the
  broker has acknowledged, in one write that does not queue in front of the device's reply,
  nor behind it: a command whose row the reply's transaction holds is marked on a later turn.

The link's beat comes after the sending in a turn, so a command never waits for it.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from booking.core.clock import Clock
from booking.core.db import Database
from devices.commands import operations as commands
from devices.commands import outbox as command_outbox
from devices.commands.group import (
    MARK_SENT_AFTER_S,
    OUTAGE_RETRY_S,
    DispatcherGroup,
    report_failed_turn,
)
from devices.fleet import link_status
from devices.ingest import apply as ingest
from devices.models.links import LinkState
from devices.protocol import messages as protocol

log = logging.getLogger(__name__)

# ... unless this many wait: a steady stream of commands must not defer them for ever.
MARK_SENT_BATCH = 50

# Publishes (topic, payload) at QoS 1; an event set on the broker's PUBACK, or None when the
# client refused the message outright.
Send = Callable[[str, bytes], threading.Event | None]
Count = Callable[[str, int], None]


@dataclass(frozen=True)
class _Unconfirmed:
    delivered: threading.Event
    command_id: str
    name: str
    expires_at: datetime


class CommandDispatcher:
    """One per bridge: ``start()``, ``wake()`` when a command may be queued, ``stop()``."""

    def __init__(
        self,
        database: Database,
        site: str,
        clock: Clock,
        *,
        client_id: str,
        send: Send,
        connected: threading.Event,
        count: Count,
        fallback_poll: float | None = None,
        group: DispatcherGroup | None = None,
    ) -> None:
        """``group``: run as a lane of that group's one thread (a worker of many centres,
        :mod:`devices.commands.group`) instead of a thread of its own."""
        self.database = database
        self.site = site
        self.clock = clock
        self.client_id = client_id
        self._send = send
        self._connected = connected
        self._count = count
        # Chosen at start (_poll_every), when the database is known to be there.
        self._fallback_poll = fallback_poll
        self._group = group
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The loop sleeps in select() on what can wake it: a socket pair for this process's
        # own wake-ups (wake()), and on SQLite the socket the web's datagrams arrive on, read
        # by this very thread (each thread hop costs a GIL handover under load).
        self._wake_pair: tuple[socket.socket, socket.socket] | None = None
        self._local: socket.socket | None = None
        self._listener = command_outbox.NotifyListener(database, site, self.wake)
        self._unconfirmed: list[_Unconfirmed] = []
        # Outbox rows published (or dropped as too late) whose deletion is still to be written.
        self._taken: set[int] = set()
        self._last_publish = 0.0
        self._recorded: LinkState | None = None
        self._next_beat = 0.0

    def start(self) -> None:
        self._stop.clear()
        self._wake_pair = socket.socketpair()
        for end in self._wake_pair:
            end.setblocking(False)
        self._local = command_outbox.listen_local(self.database, self.site)
        self._listener.start()
        if self._group is not None:
            self._group.join(self, self._local)
            return
        self._thread = threading.Thread(target=self._run, name="linli-commands", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sending, and tell the web the link is gone (best effort: a beat left behind
        goes stale on its own)."""
        self._stop.set()
        self.wake()
        self._listener.stop()
        if self._group is not None:
            self._group.leave(self, self._local)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        for sock in (*(self._wake_pair or ()), self._local):
            if sock is not None:
                sock.close()
        self._wake_pair, self._local = None, None
        try:
            self._mark_sent(final=True)
            self._record(LinkState.STOPPED)
        except Exception:
            log.exception("could not record the link as stopped; its beat goes stale instead")

    def wake(self) -> None:
        """Look now (from any thread, paho's callbacks too: it never blocks)."""
        if self._group is not None:
            if self._local is not None or self._wake_pair is not None:
                self._group.wake(self)
            return
        pair = self._wake_pair
        if pair is None:
            return  # not running: it looks at once when started
        with contextlib.suppress(OSError):  # full (a wake-up is pending anyway), or closed
            pair[1].send(b"\0")

    # --- the loop --------------------------------------------------------------------------------

    def _run(self) -> None:
        assert self._wake_pair is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._wake_pair[0], selectors.EVENT_READ)
            if self._local is not None:
                selector.register(self._local, selectors.EVENT_READ)
            woken = True  # look at once: commands may have waited while no bridge ran
            while not self._stop.is_set():
                try:
                    self._turn(woken)
                except Exception as error:
                    # Never let the sender die: the next turn tries again.
                    report_failed_turn(error)
                    self._stop.wait(OUTAGE_RETRY_S)
                timeout = MARK_SENT_AFTER_S if self._unconfirmed else self._poll_every()
                ready = selector.select(timeout)
                # Drained before looking: a wake-up after this makes the next select return.
                for key, _ in ready:
                    _drain(key.fileobj)  # type: ignore[arg-type]
                woken = bool(ready)

    def _poll_every(self) -> float:
        return command_outbox.fallback_poll_s(self.database, self._fallback_poll)

    # --- as a lane of a group -----------------------------------------------------------------

    def due(self) -> bool:
        """Whether the lane has work though nobody woke it: its beat, or sends to record."""
        state = LinkState.CONNECTED if self._connected.is_set() else LinkState.DISCONNECTED
        return state is not self._recorded or time.monotonic() >= self._next_beat or self.waiting()

    def waiting(self) -> bool:
        return bool(self._unconfirmed or self._taken)

    def turn(self, woken: bool) -> None:
        self._turn(woken)

    def _turn(self, woken: bool) -> None:
        state = LinkState.CONNECTED if self._connected.is_set() else LinkState.DISCONNECTED
        # Sending first, the link's beat after: a command waiting is someone waiting at a
        # locker, and the beat's write took up to a third of a second in the loaded district.
        try:
            if state is LinkState.CONNECTED:
                self._dispatch(woken)
        finally:  # a command that cannot be sent must not make the link look dead
            if state is not self._recorded or time.monotonic() >= self._next_beat:
                self._record(state)
        quiet = time.monotonic() - self._last_publish >= MARK_SENT_AFTER_S
        pending = len(self._unconfirmed) + len(self._taken)
        if pending and (quiet or pending >= MARK_SENT_BATCH):
            self._mark_sent()

    def _record(self, state: LinkState) -> None:
        with self.database.write() as session:
            link_status.record_link(
                session, site=self.site, client_id=self.client_id, state=state,
                now=self.clock.now(),
            )  # fmt: skip
        self.beaten(state)

    def beat_due(self) -> link_status.Beat | None:
        """For a group writing its lanes' beats together: this lane's, if one is due."""
        state = LinkState.CONNECTED if self._connected.is_set() else LinkState.DISCONNECTED
        if state is self._recorded and time.monotonic() < self._next_beat:
            return None
        return link_status.Beat(self.site, self.client_id, state, self.clock.now())

    def beaten(self, state: LinkState) -> None:
        """The link was recorded as ``state`` just now."""
        self._recorded = state
        every = link_status.BEAT_EVERY.total_seconds()
        # The next beat on the process's grid of beats, not one period from now: a group's
        # lanes joined moments apart are then due together, and their beats written as one.
        self._next_beat = (time.monotonic() // every + 1) * every

    def _dispatch(self, woken: bool) -> None:
        # Reads only: the rows are deleted with the 'sent' marks a moment later, so no write
        # transaction (SQLite's lock, PostgreSQL's fsync) stands before the publish.
        with self.database.read_statements() as session:
            if not woken and not command_outbox.has_queued(session, self.site):
                return  # the fallback poll, on an idle bridge
            found = [
                (row_id, command)
                for row_id, command in command_outbox.queued(session, self.site)
                if row_id not in self._taken
            ]
            for _, command in found:
                session.expunge(command)
        now = self.clock.now()
        for row_id, command in found:
            self._taken.add(row_id)
            if not command_outbox.worth_sending(command, now):
                continue
            payload = protocol.encode(commands.command_payload(command))
            delivered = self._send(commands.command_topic(command.site, command.device_id), payload)
            if delivered is None:
                continue  # refused by the client; the command times out as not delivered
            self._unconfirmed.append(
                _Unconfirmed(delivered, command.id, command.name, command.expires_at)
            )
            self._last_publish = time.monotonic()

    def _mark_sent(self, *, final: bool = False) -> None:
        """Delete the outbox rows taken, and record as ``sent`` the published commands the
        broker has acknowledged, so that :func:`devices.commands.operations.expire_overdue` does not
        call them undelivered. One that expires still unacknowledged is left ``created``:
        not delivered, truly."""
        now = self.clock.now()
        delivered: list[_Unconfirmed] = []
        waiting: list[_Unconfirmed] = []
        for unconfirmed in self._unconfirmed:
            # Asked once each: a PUBACK arriving meanwhile must not drop it from both lists.
            if unconfirmed.delivered.is_set():
                delivered.append(unconfirmed)
            elif unconfirmed.expires_at > now and not final:
                waiting.append(unconfirmed)
        taken = set(self._taken)
        held: set[str] = set()
        if delivered or taken:
            try:
                with self.database.write() as session:
                    command_outbox.remove(session, taken)
                    if final:  # the last word: wait for each row rather than lose a mark
                        for unconfirmed in delivered:
                            commands.mark_sent(session, unconfirmed.command_id, now)
                    else:  # never behind a reply's transaction: every centre's sends wait
                        held = commands.mark_sent_unless_held(
                            session, [unconfirmed.command_id for unconfirmed in delivered], now
                        )
            except Exception as error:
                if ingest.is_outage(error) and not final:
                    log.warning("could not record %d commands as sent; later", len(delivered))
                    return  # all of them stay unconfirmed, to try again
                # The rows stay taken (never published twice by us); the marks are lost.
                log.exception("recording %d commands as sent failed", len(delivered))
            else:
                self._taken -= taken
                for unconfirmed in delivered:
                    if unconfirmed.command_id in held:
                        waiting.append(unconfirmed)  # delivered: marked on a later turn
                    else:
                        self._count(f"delivered.{unconfirmed.name}", 1)
        self._unconfirmed = waiting


def _drain(sock: socket.socket) -> None:
    with contextlib.suppress(BlockingIOError, InterruptedError):
        while sock.recv(64):
            pass
