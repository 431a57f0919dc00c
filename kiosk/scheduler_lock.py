"""On PostgreSQL, who runs the scheduler: the worker holding a session advisory lock.

Several ``linli worker`` processes may share a PostgreSQL deployment (they split the device
traffic through a shared MQTT subscription, :mod:`devices.bridge`); exactly one of them runs
the scheduler and publishes the commands. The row lease of :mod:`kiosk.leases` moves to a new
worker only when it expires (60 s, renewed every 20 s: 47–53 s measured), so here the lock
is ``pg_try_advisory_lock`` taken on a connection of its own, held open for as long as the
worker leads:

- a dead holder's connection closes with its process and PostgreSQL frees the lock at once;
  the others try every :data:`RETRY_EVERY_S`, so one takes over within seconds;
- a holder that hangs (stopped, swapping) or whose network is cut stops pinging its idle
  connection, and the server ends the session after :data:`IDLE_SESSION_TIMEOUT_S`
  (``idle_session_timeout``; its TCP keepalives catch a dead peer too), freeing the lock;
- the holder pings every :data:`PING_EVERY_S` (the watchdog); when a ping fails it has lost
  the lock, or may have, and stops leading at once (:meth:`SchedulerLock.check`).

Between a hung holder waking up and its next ping (at most :data:`PING_EVERY_S`) it may run
one more job beside its successor; the jobs' once-only claims (:mod:`booking.core.sends`)
keep that round from sending anything twice.

The key is the lock's class (``LNLI``) and a hash of the connection's schema, so deployments
(or test schemas) sharing one PostgreSQL database do not exclude each other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

LOCK_CLASS = 0x4C4E4C49  # "LNLI"
RETRY_EVERY_S = 2.0
PING_EVERY_S = 2.0
# Longer than a few missed pings, shorter than the 10 s a takeover may take in all.
IDLE_SESSION_TIMEOUT_S = 6
# The lock connection's TCP settings (libpq's, and the server's for its end): a peer that
# vanishes without closing is noticed in idle + interval × count seconds.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1,
              "keepalives_count": 3}  # fmt: skip
# An unacknowledged send (a ping into a cut network) fails after this long, not minutes.
TCP_USER_TIMEOUT_MS = 4000
CONNECT_TIMEOUT_S = 5

_SESSION_SETTINGS = (
    f"SET idle_session_timeout = '{IDLE_SESSION_TIMEOUT_S}s'",
    "SET tcp_keepalives_idle = 2",
    "SET tcp_keepalives_interval = 1",
    "SET tcp_keepalives_count = 3",
    "SET statement_timeout = '3s'",
)
# The lock's key: the deployment's schema, and a scope ("" for the scheduler's own lock; a
# group of workers' centres for the lock that leads their bridges, kiosk.scheduler_seat).
_KEY = "hashtext(current_schema() || :scope)"
_TRY = text(f"SELECT pg_try_advisory_lock(:cls, {_KEY})")
_HOLDER = text(
    "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l"
    " JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted"
    f" AND l.classid = CAST(:cls AS oid) AND l.objid = CAST({_KEY} AS oid)"
)


class SchedulerLock:
    """``acquire()`` until it returns True, then ``check()`` every :data:`PING_EVERY_S`
    while leading; ``release()`` at the end (closing the connection frees the lock)."""

    def __init__(self, url: str, holder: str, scope: str = "") -> None:
        self.holder = holder
        self.scope = scope
        self._engine: Engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                **KEEPALIVES,
                "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
                "connect_timeout": CONNECT_TIMEOUT_S,
                # Shown in pg_stat_activity, so an operator can see who leads (docs/operations.md).
                # A group's lock (kiosk.scheduler_seat) leads bridges only: named apart.
                "application_name": f"linli-{'lead' if scope else 'scheduler'} {holder}"[:63],
            },
            isolation_level="AUTOCOMMIT",
        )
        self._connection: Connection | None = None

    @property
    def name(self) -> str:
        """What the log calls this lock."""
        return (
            f"the lock that leads centres {self.scope[1:]}" if self.scope else "the scheduler lock"
        )

    @property
    def held(self) -> bool:
        return self._connection is not None

    def acquire(self) -> bool:
        """Try once; True if this worker now holds the lock."""
        connection = self._engine.connect()
        try:
            for setting in _SESSION_SETTINGS:
                connection.execute(text(setting))
            won = bool(connection.scalar(_TRY, {"cls": LOCK_CLASS, "scope": self.scope}))
        except Exception:
            connection.close()
            raise
        if not won:
            connection.close()
            return False
        self._connection = connection
        return True

    def holder_now(self) -> str | None:
        """Who holds the lock, as PostgreSQL knows it (for the waiting worker's log line)."""
        with self._engine.connect() as connection:
            row = connection.execute(_HOLDER, {"cls": LOCK_CLASS, "scope": self.scope}).first()
        if row is None:
            return None
        return f"{row.application_name or 'unknown'} (backend pid {row.pid})"

    def check(self) -> bool:
        """The watchdog's ping: False when the lock connection is gone (and the lock with it,
        or soon: the server ends an idle session that nobody pings)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
        except Exception as error:
            log.error("the connection of %s failed: %s", self.name, error)
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text(f"SELECT pg_advisory_unlock(:cls, {_KEY})"),
                    {"cls": LOCK_CLASS, "scope": self.scope},
                )
            except Exception:
                log.warning("could not unlock; closing the connection frees the lock anyway")
            self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                log.debug("closing a failed lock connection", exc_info=True)


# While a try goes on failing, a line this often (the first one carries the traceback).
STILL_FAILING_EVERY_S = 60.0


class TryLog:
    """What the log says of a follower's tries for the lock while they fail: the first failure
    with its traceback, then a line a minute, and one when a try works again. Every follower
    tries every :data:`RETRY_EVERY_S`, so through a database outage a traceback each time was
    1,800 an hour per worker, and the line that says the outage ended was lost among them."""

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, lock: str = "the scheduler lock"
    ) -> None:
        self._clock, self._lock = clock, lock
        self._since: float | None = None
        self._next_line = 0.0

    def failed(self, error: BaseException) -> None:
        now = self._clock()
        if self._since is None:
            self._since, self._next_line = now, now + STILL_FAILING_EVERY_S
            log.error("could not try for %s; trying every %.0f s",
                      self._lock, RETRY_EVERY_S, exc_info=error)  # fmt: skip
        elif now >= self._next_line:
            self._next_line = now + STILL_FAILING_EVERY_S
            log.error("still could not try for %s, for %.0f s now: %s",
                      self._lock, now - self._since, error)  # fmt: skip

    def tried(self) -> None:
        if self._since is not None:
            log.warning("tried for %s again after %.0f s of failures",
                        self._lock, self._clock() - self._since)  # fmt: skip
            self._since = None


def watch(
    lock: SchedulerLock, lost: threading.Event, released: threading.Event
) -> threading.Thread:
    """Ping the lock's connection while leading, from a thread of its own, so that nothing
    the worker's main thread waits for (a bridge stopping, a job finishing) leaves it idle for
    the server's timeout; ``lost`` when the connection fails (the worker then steps down)."""

    def ping() -> None:
        while not released.wait(PING_EVERY_S):
            if not lock.check():
                lost.set()
                return

    thread = threading.Thread(target=ping, name="linli-lock", daemon=True)
    thread.start()
    return thread


class Contender:
    """One worker's contention for a lock over its life, in terms: tries every
    :data:`RETRY_EVERY_S` while it does not lead, the watchdog while it does, and the lock let
    go at the end. The worker's own loop (its bridges, and the scheduler with them) and the
    scheduler seat's (:mod:`kiosk.scheduler_seat`) both step one twice a second: each leads
    something different with it, and both must try, watch and step down alike."""

    def __init__(self, lock: SchedulerLock, clock: Callable[[], float] = time.monotonic) -> None:
        self.lock = lock
        self.leading = False
        self._clock = clock
        self._tries = TryLog(clock, lock.name)
        self._next_try = 0.0  # the first try is due at once
        self._lost = threading.Event()  # set by this term's watchdog
        self._released = threading.Event()  # set to stop this term's watchdog
        self._watchdog: threading.Thread | None = None

    @property
    def lost(self) -> bool:
        """The lock's connection failed while leading: another worker may lead by now, so
        the holder stops what it leads and calls :meth:`step_down`."""
        return self.leading and self._lost.is_set()

    def try_now(self) -> bool:
        """One try, which raises if the database cannot be asked; True if it won, and then
        the lock is watched from now on."""
        self._next_try = self._clock() + RETRY_EVERY_S
        if self.lock.acquire():
            self.leading = True
            self._watchdog = watch(self.lock, self._lost, self._released)
        return self.leading

    def try_when_due(self) -> bool:
        """A try if one is due and it does not lead; True if it won. A failure to ask is
        logged (:class:`TryLog`) and the next try is due as usual."""
        if self.leading or self._clock() < self._next_try:
            return False
        try:
            won = self.try_now()
        except Exception as error:
            self._tries.failed(error)
            return False
        self._tries.tried()
        return won

    def step_down(self) -> None:
        """Stop watching and let the lock go, if its connection still holds it; the next
        term's try is :data:`RETRY_EVERY_S` away."""
        self._released.set()
        self.lock.release()
        self.leading = False
        self._lost, self._released = threading.Event(), threading.Event()
        self._next_try = self._clock() + RETRY_EVERY_S

    def end(self) -> None:
        """Let the lock go for good, once what it led has stopped: pinged until then, so
        that the server does not end the idle session and a successor start beside it."""
        self._released.set()
        if self._watchdog is not None and self._watchdog.is_alive():
            self._watchdog.join(PING_EVERY_S + 5)
        self.lock.release()
        self.leading = False
