"""The one database pattern shared by the web app, scheduled jobs and the MQTT worker.

Every caller that owns a transaction opens it with :meth:`Database.write` (or
:meth:`Database.read` for a read-only look), never by hand.
"""

from __future__ import annotations

import enum
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, Enum, MetaData, create_engine, event, exc
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from booking.core import json_columns

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 5000
# How long a writer waits for the other writers of its own process before it lets SQLite's
# busy handler decide (see Database.write).
SQLITE_WRITER_QUEUE_TIMEOUT_S = 30.0
_WRITE_OPTION = "linli_write"
# On SQLite: no BEGIN, each statement reads on its own (see Database.read_statements).
_NO_TRANSACTION_OPTION = "linli_no_transaction"
# The largest id a table holds: PostgreSQL's ``integer`` (SQLite's is wider). Anything larger
# is refused at the edge (URL converters, schemas, forms) as not found or invalid, never sent
# to the database, where PostgreSQL would fail the statement and SQLite's driver overflow.
MAX_ID = 2**31 - 1
# A server connection back in the pool for longer than this is pinged before it is handed
# out again; one used more recently is not (see _ping_idle_connections).
IDLE_PING_AFTER_S = 2.0
# Server connections are replaced after an hour, before any server or firewall idle limit.
POOL_RECYCLE_S = 3600
_CHECKED_IN_AT = "linli_checked_in_at"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always handed back timezone-aware.

    SQLite keeps no zone, so without this a value read back would be naive and
    compare wrongly with ``datetime.now(UTC)``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A column type storing a StrEnum by its value as plain text (no native enum to migrate)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that later writes cannot wait for the lock: SQLite
        # answers SQLITE_BUSY at once. Writers take the lock up front instead.
        options = conn.get_execution_options()
        if options.get(_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get(_NO_TRANSACTION_OPTION):
            conn.exec_driver_sql("BEGIN")


def _ping_idle_connections(engine: Engine, idle_ping_after: float) -> None:
    """Check a pooled server connection before reuse only when it has been idle a while.

    ``pool_pre_ping`` costs a round trip on every checkout: two per API request, a fifth of
    its time (docs/benchmarks.md). A connection that has sat in the pool (overnight, or
    through a database restart) is pinged, and a dead one is replaced before anyone sees it.
    One used in the last ``idle_ping_after`` seconds is handed out as it is; if the server
    went away in between, the statement fails, SQLAlchemy recognises the disconnect and
    invalidates the whole pool, so only that request fails and the next ones reconnect.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_ping_after:
            return  # brand new (just connected) or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise
            alive = False
        if not alive:
            # The pool discards this connection and checks out (connects) another.
            raise exc.DisconnectionError("pooled connection found dead")


def _create_private_sqlite_file(url: str) -> None:
    """Create a new SQLite file readable by its owner only (0600) before SQLite does: SQLite
    would make it with the process's umask, usually readable by everyone, and it holds
    residents' phones and readings. Its -wal and -shm files take the same mode from it."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # an existing database keeps the mode its operator gave it


def make_engine(url: str, *, idle_ping_after: float = IDLE_PING_AFTER_S, **kwargs: Any) -> Engine:
    """Create an engine with Linli's per-connection settings for the URL's dialect.

    A SQLite connection is a file handle that nothing can cut, so it is never pinged; a
    server's connections are pinged only after ``idle_ping_after`` seconds in the pool.
    """
    connect_args: dict[str, Any] = dict(kwargs.pop("connect_args", {}))
    kwargs.setdefault("json_serializer", json_columns.dumps)
    if url.startswith("sqlite"):
        _create_private_sqlite_file(url)
        connect_args["timeout"] = SQLITE_BUSY_TIMEOUT_MS / 1000
        connect_args["check_same_thread"] = False
    else:
        kwargs.setdefault("pool_recycle", POOL_RECYCLE_S)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    else:
        _ping_idle_connections(engine, idle_ping_after)
    return engine


_writer_queues: dict[str, threading.RLock] = {}
_writer_queues_guard = threading.Lock()


def _writer_queue(url: str) -> threading.RLock:
    with _writer_queues_guard:
        return _writer_queues.setdefault(url, threading.RLock())


class ReadOnlySessionError(RuntimeError):
    """Something tried to write through a session of :meth:`Database.read_statements`."""


def _refuse_flush(session: Session, _flush_context: Any, _instances: Any) -> None:
    raise ReadOnlySessionError("a statement read cannot write; use Database.write()")


def runs_without_transaction(connection: Connection) -> bool:
    """True for a connection of :meth:`Database.read_connection` (or ``read_statements``):
    each statement reads on its own, and beginning a transaction on it emits nothing."""
    options = connection.get_execution_options()
    return (
        bool(options.get(_NO_TRANSACTION_OPTION)) or options.get("isolation_level") == "AUTOCOMMIT"
    )


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Without a transaction a flush would be committed at once: these sessions refuse
        # to flush at all (and never autoflush).
        self._statement_sessions = sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False
        )
        event.listen(self._statement_sessions, "before_flush", _refuse_flush)
        self._no_transaction: dict[str, Any] = (
            {_NO_TRANSACTION_OPTION: True}
            if self.engine.dialect.name == "sqlite"
            else {"isolation_level": "AUTOCOMMIT"}
        )
        # SQLite's busy handler polls with growing sleeps (measured: ~48 ms an attempt under
        # 50 contending threads, and now and then "database is locked" after the timeout).
        # Writers of one process queue on a lock first, so SQLite only arbitrates between
        # processes. Reentrant, so a nested write in one thread behaves as it did without it.
        self._writer_queue = _writer_queue(url) if self.engine.dialect.name == "sqlite" else None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        queued = self._writer_queue is not None and self._writer_queue.acquire(
            timeout=SQLITE_WRITER_QUEUE_TIMEOUT_S
        )
        try:
            with self.sessions() as session, session.begin():
                session.connection(execution_options={_WRITE_OPTION: True})
                yield session
        finally:
            if queued:
                assert self._writer_queue is not None
                self._writer_queue.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only look; whatever the block changes is rolled back."""
        with self.sessions() as session, session.begin():
            yield session
            session.rollback()

    @contextmanager
    def read_statements(self) -> Iterator[Session]:
        """A read-only look without a transaction: each statement sees what is committed
        when it runs, and the session refuses to write (:class:`ReadOnlySessionError`).

        For hot reads whose statements need not agree on one snapshot (a sign-in check,
        then an answer): no BEGIN and no ROLLBACK, which on a server are two of a short
        request's four round trips (docs/benchmarks.md).
        """
        # No session.begin(): there is nothing to commit, and closing gives the connection
        # back without the commit's bookkeeping.
        with self._statement_sessions() as session:
            session.connection(execution_options=self._no_transaction)
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """The connection of :meth:`read_statements` without the ORM session: for the
        hottest reads (``booking.core.driver_sql``), where opening and closing the session cost
        twice the connection's own checkout and return (docs/benchmarks.md). Give it to
        :meth:`statement_session` when an ORM read is needed after all."""
        with self.engine.connect() as connection:
            yield connection.execution_options(**self._no_transaction)

    def statement_session(self, connection: Connection) -> Session:
        """A session of :meth:`read_statements` on a :meth:`read_connection` (the caller
        closes it; the connection stays open)."""
        return self._statement_sessions(bind=connection)

    def dispose(self) -> None:
        self.engine.dispose()
