"""Telling a waiting request that its command is final (PostgreSQL).

The worker records a device's answer (:func:`devices.commands.operations.record_reply`) and
the web request that issued the command waits for it (:mod:`devices.commands.waiting`).
Reading the command's row every 5 ms cost each waiting request a read that often and up to
5 ms of its round trip. So the transaction that makes a command final also sends a notice
naming it (:func:`announce`), and each web process has one ``LISTEN`` connection
(:func:`waits_for`) whose notices wake the waiter of that command at once: about a
millisecond sooner at the median, and no reads meanwhile (docs/benchmarks.md, eleventh
session). SQLite has no notices: its waiters read the row as before.
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import event as orm_events
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.core.db import Database
from devices.commands import notices
from devices.models.commands import DeviceCommand

CHANNEL = "linli_command_outcome"
# The ids of the commands this session made final, for the notice at its commit.
_ANNOUNCED_KEY = "linli_announced_outcomes"


def announce(session: Session, command: DeviceCommand) -> None:
    """Tell the waiters of ``command``, once this transaction commits, that it is final."""
    if session.get_bind().dialect.name == "postgresql":
        # Sent just before the commit (:func:`_notify_before_commit`), not now: a statement
        # here would flush the command at once, and a flushed object nobody holds leaves the
        # session's identity map, so the reply's handlers read it again (two statements more
        # a reply, where this costs one).
        session.info.setdefault(_ANNOUNCED_KEY, set()).add(command.id)


@orm_events.listens_for(Session, "before_commit")
def _notify_before_commit(session: Session) -> None:
    for command_id in sorted(session.info.pop(_ANNOUNCED_KEY, ())):
        session.execute(select(func.pg_notify(CHANNEL, command_id)))


@orm_events.listens_for(Session, "after_rollback")
def _forget_announced(session: Session) -> None:
    session.info.pop(_ANNOUNCED_KEY, None)


def listen_name() -> str:
    """The application name of this process's connection listening for outcomes."""
    return f"linli-outcome-listen {os.getpid()}"


class Waits:
    """A process's waiters on one database: each command id's events, set when a notice names
    the command (and all of them when the ``LISTEN`` is remade: a notice may have been missed
    meanwhile)."""

    def __init__(self, conninfo: str) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, list[threading.Event]] = {}
        self._listener = notices.Listener(conninfo, CHANNEL, listen_name(), self._heard)
        self._listener.start()

    @property
    def listening(self) -> bool:
        """Whether a notice would be heard now; while not, waiters must look for themselves."""
        return self._listener.listening.is_set()

    def expect(self, command_id: str) -> threading.Event:
        """An event set when a notice names ``command_id``; :meth:`forget` it when done. Ask
        before the first look at the row, so a notice sent in between is not missed."""
        event = threading.Event()
        with self._lock:
            self._events.setdefault(command_id, []).append(event)
        return event

    def forget(self, command_id: str, event: threading.Event) -> None:
        with self._lock:
            events = self._events.get(command_id, [])
            if event in events:
                events.remove(event)
            if not events:
                self._events.pop(command_id, None)

    def _heard(self, command_id: str | None) -> None:
        with self._lock:
            if command_id is None:
                found = [event for events in self._events.values() for event in events]
            else:
                found = list(self._events.get(command_id, ()))
        for event in found:
            event.set()


_lock = threading.Lock()
_waits: dict[tuple[int, str], Waits] = {}


def waits_for(database: Database) -> Waits | None:
    """This process's :class:`Waits` for ``database`` (None where there are no notices).

    One per process and database server, started at the first wait and kept for the process's
    life: a web worker waits for commands all day, and a ``LISTEN`` per wait would cost a
    connection each time. Keyed by the process too: a forked child has none of the parent's
    threads, so it starts its own.
    """
    if not notices.works_on(database):
        return None
    key = (os.getpid(), notices.conninfo(database.url, drop_options=True))
    with _lock:
        waits = _waits.get(key)
        if waits is None:
            waits = _waits[key] = Waits(key[1])
        return waits
