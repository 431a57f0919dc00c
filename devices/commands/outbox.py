"""The command outbox: any process issues a command, only the worker's bridge publishes it.

A process that publishes a command without running the bridge cannot promise that the
locker's reply and door events are recorded: with the worker stopped, the kiosk once opened
a door that nobody recorded, and a drill left unlent. So a command is issued with a row in
``device_command_outbox`` (:func:`enqueue`, called by :func:`devices.commands.operations.issue` in the
issuing transaction), and the bridge's :class:`~devices.commands.dispatcher.CommandDispatcher`
takes the rows of its site (:func:`queued`) and publishes. With the worker down nothing takes
them, and a command whose expiry has passed by the time it is taken is dropped, never sent:
a worker that comes back late opens no door by surprise.

The bridge must take a new command at once (a command's round trip has a 50 ms budget,
docs/benchmarks.md), so an enqueue also wakes it:

- PostgreSQL: ``pg_notify`` in the issuing transaction, delivered at commit and dropped with a
  rollback; the bridge LISTENs on a connection of its own (:class:`NotifyListener`).
- SQLite: the web and the worker share the database file, hence one machine. After the
  commit the issuing session sends a datagram to an abstract Unix socket named after the
  file and the site, which the bridge has bound.

A lost wake-up only delays a command: the bridge also looks every :data:`FALLBACK_POLL_S`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from booking.core.db import Database
from devices.commands import notices
from devices.models.commands import DeviceCommand
from devices.models.outbox import CommandOutbox

log = logging.getLogger(__name__)

CHANNEL = "linli_command_outbox"
FALLBACK_POLL_S = 0.25
# With PostgreSQL's notices heard, the poll only covers a notice lost in a reconnect (after
# which every bridge looks anyway): a district's hundred bridges need not ask 4 times a second.
LISTENED_FALLBACK_POLL_S = 2.0
_WAKE_KEY = "linli_outbox_wakes"


# --- queueing and taking -------------------------------------------------------------------------


def enqueue(session: Session, command: DeviceCommand, now: datetime) -> None:
    """Ask the bridge to publish ``command`` once this transaction commits."""
    session.add(CommandOutbox(command_id=command.id, site=command.site, queued_at=now))
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(select(func.pg_notify(CHANNEL, command.site)))
    else:
        address = local_address(bind.engine.url.database, command.site)
        if address is not None:
            session.info.setdefault(_WAKE_KEY, set()).add(address)


def has_queued(session: Session, site: str) -> bool:
    """Whether a command of the site waits; the fallback poll's cheap look."""
    found = session.scalar(select(CommandOutbox.id).where(CommandOutbox.site == site).limit(1))
    return found is not None


def queued(session: Session, site: str) -> list[tuple[int, DeviceCommand]]:
    """The site's queued commands with their outbox row ids, oldest first.

    A read: the bridge publishes at once and deletes the rows a moment later (:func:`remove`),
    so no write transaction stands between a resident and the door. Publishing a row twice
    (a bridge that died before deleting it) is harmless: a device executes a command id once
    and repeats its answer (docs/protocol.md).
    """
    rows = session.execute(
        select(CommandOutbox.id, DeviceCommand)
        .join(DeviceCommand, DeviceCommand.id == CommandOutbox.command_id)
        .where(CommandOutbox.site == site)
        .order_by(CommandOutbox.id)
    ).all()
    return [(row_id, command) for row_id, command in rows]


def worth_sending(command: DeviceCommand, now: datetime) -> bool:
    """Not final and not expired: a command taken later is dropped, never sent late."""
    if command.state.is_final or command.expires_at <= now:
        log.info("command %s not sent: %s by the time the bridge took it", command.id,
                 command.state if command.state.is_final else "expired")  # fmt: skip
        return False
    return True


def remove(session: Session, row_ids: Collection[int]) -> None:
    """Forget outbox rows the bridge has taken (sent or dropped)."""
    if row_ids:
        session.execute(
            delete(CommandOutbox)
            .where(CommandOutbox.id.in_(list(row_ids)))
            .execution_options(synchronize_session=False)
        )


# --- waking the bridge ---------------------------------------------------------------------------


def local_address(database_file: str | None, site: str) -> str | None:
    """The abstract Unix socket a site's bridge listens on for an SQLite database file (None
    for an in-memory database: no other process can share it)."""
    if not database_file or database_file == ":memory:":
        return None
    key = f"{os.path.realpath(database_file)}|{site}".encode()
    # Abstract namespace (leading NUL): no file to clean up, and no path length to mind.
    return "\0linli-outbox/" + hashlib.sha256(key).hexdigest()[:32]


_sender_lock = threading.Lock()
_sender: tuple[int, socket.socket] | None = None


def _send_local(address: str) -> None:
    global _sender
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid():  # a forked child makes its own
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.setblocking(False)
            _sender = (os.getpid(), sock)
        sock = _sender[1]
    try:
        sock.sendto(b"1", address)
    except OSError:
        # No bridge listening (the worker is down: the command waits, then expires unsent),
        # or its queue is full (it is awake anyway).
        pass


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session: Session) -> None:
    for address in session.info.pop(_WAKE_KEY, ()):
        _send_local(address)


@event.listens_for(Session, "after_rollback")
def _forget_wakes(session: Session) -> None:
    session.info.pop(_WAKE_KEY, None)


def listen_local(database: Database, site: str) -> socket.socket | None:
    """For a bridge on SQLite: the bound, non-blocking socket its wake-ups arrive on (None on
    another database, or when it cannot be had: another bridge of the site holds it)."""
    if database.engine.dialect.name != "sqlite":
        return None
    address = local_address(database.engine.url.database, site)
    if address is None:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        log.warning("cannot listen for queued commands (%s): polling only", error)
        return None
    sock.setblocking(False)
    return sock


def listen_name() -> str:
    """The application name of this process's LISTEN connection."""
    return f"linli-outbox-listen {os.getpid()}"


class NotifyListener:
    """For a bridge on PostgreSQL (psycopg): calls ``wake`` whenever a command is queued for
    ``site``. On another database it does nothing.

    The LISTEN connection and its thread are one per process and database, shared by the
    bridges of every centre a worker serves (:class:`_SharedListen`): a worker of a district
    with a connection per centre would use up the server's connections.
    """

    def __init__(self, database: Database, site: str, wake: Callable[[], None]) -> None:
        self._database = database
        self._site = site
        self._wake = wake
        self._shared: _SharedListen | None = None

    @staticmethod
    def works_on(database: Database) -> bool:
        return notices.works_on(database)

    def start(self) -> None:
        if not self.works_on(self._database):
            return
        self._shared = _SharedListen.join(self._database, self._site, self._wake)

    def stop(self, timeout: float = 2.0) -> None:
        if self._shared is not None:
            self._shared.leave(self._site, self._wake, timeout)
            self._shared = None


class _SharedListen:
    """One :class:`~devices.commands.notices.Listener` for a database, waking the bridges of
    the sites named in each notice (and every bridge when its ``LISTEN`` is remade); while the
    server is away the bridges' fallback polls carry on. It stops when its last bridge leaves."""

    _lock = threading.Lock()
    _running: dict[str, _SharedListen] = {}

    def __init__(self, database: Database) -> None:
        self._database = database
        self._wakes: dict[str, list[Callable[[], None]]] = {}
        self._listener = notices.Listener(
            notices.conninfo(database.url), CHANNEL, listen_name(), self._wake
        )

    @classmethod
    def join(cls, database: Database, site: str, wake: Callable[[], None]) -> _SharedListen:
        with cls._lock:
            shared = cls._running.get(database.url)
            if shared is None:
                shared = cls._running[database.url] = cls(database)
                shared._wakes.setdefault(site, []).append(wake)
                shared._listener.start()
            else:
                shared._wakes.setdefault(site, []).append(wake)
                # Commands queued before this bridge joined: it looks at once anyway (the
                # dispatcher's first turn), so no wake-up is owed here.
            return shared

    def leave(self, site: str, wake: Callable[[], None], timeout: float) -> None:
        with self._lock:
            wakes = self._wakes.get(site, [])
            if wake in wakes:
                wakes.remove(wake)
            if not wakes:
                self._wakes.pop(site, None)
            last = not self._wakes
            if last and self._running.get(self._database.url) is self:
                del self._running[self._database.url]
        if last:
            self._listener.stop(timeout)

    def _wake(self, site: str | None) -> None:
        # None: the LISTEN was (re)made, and anything queued meanwhile waits; every bridge looks.
        with self._lock:
            found = [w for key, ws in self._wakes.items() if site in (None, key) for w in ws]
        for wake in found:
            wake()


def fallback_poll_s(database: Database, chosen: float | None = None) -> float:
    """How long a command sender sleeps with nothing to do (``chosen`` when given): long once
    PostgreSQL's notices are heard (a lost one is covered by the look after each reconnect),
    short otherwise."""
    if chosen is not None:
        return chosen
    if NotifyListener.works_on(database):
        return LISTENED_FALLBACK_POLL_S
    return FALLBACK_POLL_S
