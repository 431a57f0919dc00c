"""`linli worker`: the one process that runs the scheduler and the MQTT bridge.

Exactly one worker runs per deployment. It holds the lease row in ``worker_leases`` (renewed
every third of its lifetime) for as long as it runs; a second worker waits for the lease, or
with ``--no-wait`` refuses to start. It stops cleanly on SIGTERM or SIGINT: the scheduler
finishes the job in hand, the bridge publishes the server's offline status and disconnects,
and the lease is released so a successor need not wait for it to expire.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import inspect

from booking.core.clock import Clock
from booking.core.db import Database
from booking.core.retention import RetentionPeriods
from kiosk import leases, scheduler
from kiosk.models import WorkerLease

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=60)
# How long the bridge may take to publish "offline" and disconnect before we give up on it.
BRIDGE_STOP_TIMEOUT = 10.0

# A bridge runs until ``stop`` is set, then says goodbye to the broker and returns.
BridgeRunner = Callable[[Database, str, str, threading.Event], None]


class WorkerError(Exception):
    """The worker cannot start; the message says why and what to do."""


class LeaseTaken(WorkerError):
    pass


def default_bridge(database: Database, url: str, site: str, stop: threading.Event) -> None:
    from devices.bridge import run

    # Commits in a process of their own (devices/ingest/batch_process.py), which makes its own
    # handlers: the lending and health reactions of devices.ingest.handlers.
    run(database, url, site, stop, commit_process_handlers="devices.ingest.handlers:default_handlers")


class Worker:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        mqtt_url: str | None,
        site: str,
        lease_ttl: timedelta = LEASE_TTL,
        bridge: BridgeRunner = default_bridge,
        holder: str | None = None,
        retention: RetentionPeriods | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.mqtt_url = mqtt_url
        self.site = site
        self.lease_ttl = lease_ttl
        self.bridge = bridge
        self.holder = holder or leases.new_holder_id()
        self.retention = retention
        self.failed = False

    # --- the lease -----------------------------------------------------------------------------

    def check_schema(self) -> None:
        if not inspect(self.database.engine).has_table(WorkerLease.__tablename__):
            raise WorkerError("the database has no worker_leases table: run `linli db upgrade`")

    def try_lease(self) -> leases.LeaseHeld | None:
        with self.database.write() as session:
            return leases.try_acquire(
                session,
                name=leases.WORKER_LEASE,
                holder=self.holder,
                now=self.clock.now(),
                ttl=self.lease_ttl,
            )

    def acquire_lease(self, stop: threading.Event, *, wait: bool) -> bool:
        """Take the lease; wait for it (until ``stop``) or raise :class:`LeaseTaken`."""
        announced = False
        while not stop.is_set():
            held = self.try_lease()
            if held is None:
                return True
            message = (
                f"another worker ({held.holder}) holds the lease until "
                f"{held.expires_at:%Y-%m-%d %H:%M:%S} UTC"
            )
            if not wait:
                raise LeaseTaken(f"{message}; only one worker may run per deployment")
            if not announced:
                log.warning("%s; waiting for it", message)
                announced = True
            stop.wait(min(5.0, self.lease_ttl.total_seconds() / 3))
        return False

    def release_lease(self) -> None:
        with self.database.write() as session:
            leases.release(session, name=leases.WORKER_LEASE, holder=self.holder)

    def _keep_lease(self, stop: threading.Event) -> None:
        interval = self.lease_ttl.total_seconds() / 3
        while not stop.wait(interval):
            try:
                held = self.try_lease()
            except Exception:
                # A database hiccup: the lease still has two thirds of its life; try again.
                log.exception("could not renew the worker lease")
                continue
            if held is not None:
                log.error("lost the worker lease to %s; stopping", held.holder)
                self.failed = True
                stop.set()

    # --- running -------------------------------------------------------------------------------

    def _run_bridge(self, url: str, stop: threading.Event) -> None:
        try:
            self.bridge(self.database, url, self.site, stop)
        except Exception:
            log.exception("the MQTT bridge failed; stopping the worker")
            self.failed = True
        finally:
            # A bridge that returns on its own has nothing left to do: without it the worker
            # would schedule commands no device receives, so stop and let the supervisor restart.
            stop.set()

    def run(self, stop: threading.Event, *, wait_for_lease: bool = True) -> int:
        """Run until ``stop`` is set; return the exit status (0 after a clean stop)."""
        self.check_schema()
        if not self.acquire_lease(stop, wait=wait_for_lease):
            return 0
        log.info("worker %s holds the lease", self.holder)
        threads: list[threading.Thread] = []
        jobs = None
        try:
            jobs = scheduler.start_scheduler(self.database, self.clock, self.retention)
            threads.append(
                threading.Thread(
                    target=self._keep_lease, args=(stop,), name="linli-lease", daemon=True
                )
            )
            if self.mqtt_url:
                threads.append(
                    threading.Thread(
                        target=self._run_bridge,
                        args=(self.mqtt_url, stop),
                        name="linli-bridge",
                        daemon=True,
                    )
                )
            else:
                log.warning("LINLI_MQTT_URL is not set: the worker runs without devices")
            for thread in threads:
                thread.start()
            # Wake up now and then so that signal handlers run promptly in the main thread.
            while not stop.wait(0.5):
                pass
        finally:
            stop.set()
            if jobs is not None:
                jobs.shutdown(wait=True)
            for thread in threads:
                thread.join(BRIDGE_STOP_TIMEOUT)
                if thread.is_alive():
                    log.error("%s did not stop within %s s", thread.name, BRIDGE_STOP_TIMEOUT)
                    self.failed = True
            self.release_lease()
            log.info("worker %s stopped", self.holder)
        return 1 if self.failed else 0
