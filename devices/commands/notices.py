"""PostgreSQL's ``LISTEN`` on a connection of its own, read by one thread.

Two waits of a command are told by the database instead of asking it over and over: the
bridge, that a command was queued (:mod:`devices.commands.outbox`), and a web request, that
the command it waits for is final (:mod:`devices.commands.outcomes`). Each side's notice is
sent with ``pg_notify`` in the transaction that makes it true, so it is delivered at the
commit and never for a rollback.

A notice can still be missed: while the connection is down, before the ``LISTEN`` is made.
So whoever waits also looks now and then, and :class:`Listener` calls ``on_notice(None)``
each time its ``LISTEN`` is (re)made, meaning "anything may have happened meanwhile".
Kept by hand because psycopg's ``Connection.notifies`` is the whole of the library's part;
what is ours is the reconnecting and the "(re)listening" signal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.engine import make_url

from booking.core.db import Database

log = logging.getLogger(__name__)

# How long the thread blocks before it looks at its stop flag.
_BLOCK_S = 0.5
_RECONNECT_DELAY_S = 1.0


def works_on(database: Database) -> bool:
    """Whether ``database`` can be listened to (PostgreSQL through psycopg)."""
    dialect = database.engine.dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def conninfo(url: str, *, drop_options: bool = False) -> str:
    """psycopg's connection string for an SQLAlchemy URL. ``drop_options``: without the
    server options (a ``search_path``, say), which a ``LISTEN`` does not need: a notice
    reaches every session of the database, whatever its schema."""
    parsed = make_url(url).set(drivername="postgresql")
    if drop_options:
        parsed = parsed.difference_update_query(["options"])
    return parsed.render_as_string(hide_password=False)


class Listener:
    """``LISTEN channel`` on a connection named ``name``, calling ``on_notice(payload)`` for each
    notice and ``on_notice(None)`` whenever the ``LISTEN`` is (re)made. :attr:`listening` is
    set while it is made. ``start()``, then ``stop()``."""

    def __init__(
        self, conninfo: str, channel: str, name: str, on_notice: Callable[[str | None], None]
    ) -> None:
        self._conninfo = conninfo
        self._channel = channel
        self._name = name
        self._on_notice = on_notice
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                # Named, so an operator (and a test) finds it among the server's sessions.
                with psycopg.connect(
                    self._conninfo, autocommit=True, application_name=self._name
                ) as connection:
                    connection.execute(f"LISTEN {self._channel}")
                    self.listening.set()
                    self._on_notice(None)
                    while not self._stop.is_set():
                        for notice in connection.notifies(timeout=_BLOCK_S):
                            self._on_notice(notice.payload)
            except psycopg.Error as error:
                log.warning("listening on %s failed (%s); again shortly", self._channel, error)
            finally:
                self.listening.clear()
            self._stop.wait(_RECONNECT_DELAY_S)
