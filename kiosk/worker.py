"""`linli worker`: the process that runs the scheduler and the MQTT bridges.

One deployment serves a district: a worker bridges the devices of every centre in the
database, one bridge (one MQTT connection, with its own Will on that centre's server status)
per centre, and starts a bridge for a centre made while it runs within a minute.
``LINLI_WORKER_SITES`` (slugs, comma-separated) limits a worker to those centres, to split a
city's hundreds of centres between groups of workers, each group led on its own
(:mod:`kiosk.scheduler_seat`; docs/scaling.md).

On SQLite exactly one worker runs per deployment. It holds the lease row in ``worker_leases``
(renewed every third of its lifetime) for as long as it runs; a second worker waits for the
lease as a standby that runs nothing, or with ``--no-wait`` refuses to start.

On PostgreSQL several workers may run (docs/operations.md, "Several workers"). Each runs a
bridge on the shared subscription, so they split the device traffic; the one holding the
scheduler lock (:mod:`kiosk.scheduler_lock`) also runs the scheduler and publishes the
commands. The others try for the lock every two seconds and take over within ten when the
holder dies; a holder whose lock connection fails stops its scheduler and goes on as a
follower, trying for the lock again.

A worker stops cleanly on SIGTERM or SIGINT: the scheduler finishes the job in hand, the
bridge disconnects (the leader's first publishes the server's offline status), and the lease
or lock is released so a successor need not wait.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Collection, Sequence
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import inspect, select

from booking.core.clock import Clock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.core.retention import RetentionPeriods
from devices.commands.group import Shared
from devices.protocol import messages as protocol
from devices.sharing import BridgeStop, Role
from kiosk import leases, scheduler, scheduler_lock, scheduler_seat
from kiosk.bridge_runners import BridgeRunner, default_bridge, district_bridge
from kiosk.models import WorkerLease
from kiosk.open_files import allow_open_files

log = logging.getLogger(__name__)

LEASE_TTL = timedelta(seconds=60)
# How long the bridge may take to publish "offline" and disconnect before we give up on it.
BRIDGE_STOP_TIMEOUT = 10.0
# How long a follower's bridges may take to commit what they received when its worker takes
# over the scheduler (and its bridges become a leader's).
SWAP_DRAIN_S = 20.0

# A worker's bridges by centre (each its stop and the thread running it), and what they share.
Bridges = tuple[dict[str, tuple[BridgeStop, threading.Thread]], Shared | None]
# How often a worker serving every centre looks for a centre made since it started, so a new
# centre's lockers are heard without restarting the worker.
NEW_SITES_EVERY_S = 60.0

SQLITE_SINGLE = (
    "SQLite: this deployment runs a single worker (the scheduler and every device message "
    "in one process); use PostgreSQL to run several"
)


class WorkerError(Exception):
    """The worker cannot start; the message says why and what to do."""


class LeaseTaken(WorkerError):
    pass


class Worker:
    def __init__(
        self,
        database: Database,
        clock: Clock,
        *,
        mqtt_url: str | None,
        site: str | None = None,
        sites: Sequence[str] | None = None,
        lease_ttl: timedelta = LEASE_TTL,
        bridge: BridgeRunner = default_bridge,
        holder: str | None = None,
        retention: RetentionPeriods | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.mqtt_url = mqtt_url
        # Some centres (a city split between groups of workers by LINLI_WORKER_SITES; one in
        # tests), or None: every centre of the database, the district on one deployment.
        self.only: list[str] | None = [site] if site else (list(sites) if sites else None)
        self._scope = scheduler_seat.bridge_scope(None if site else self.only)
        self.lease_ttl = lease_ttl
        self.bridge = bridge
        self.holder = holder or leases.new_holder_id()
        self.retention = retention
        self.failed = False
        self._stop = threading.Event()
        # One bridge per centre served: each its own connection, so each centre's devices see
        # their own server status and the Will of the connection that serves them.
        self._bridges: dict[str, tuple[BridgeStop, threading.Thread]] = {}
        self._role = Role.SOLE
        self._next_site_look = 0.0
        self._shared: Shared | None = None

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

    @property
    def several(self) -> bool:
        """Whether this deployment may run several workers: on PostgreSQL."""
        return self.database.engine.dialect.name == "postgresql"

    def served_sites(self) -> list[str]:
        """The centres whose devices this worker bridges: its one, or every centre there is."""
        if self.only is not None:
            return self.only
        with self.database.read() as session:
            slugs = list(session.scalars(select(Site.slug).order_by(Site.id)))
        usable = [slug for slug in slugs if protocol.ID_PATTERN.match(slug)]
        for slug in sorted(set(slugs) - set(usable)):
            # Never made by `linli site` (it checks); a bridge could not subscribe for it.
            log.error("centre %r has a slug MQTT topics cannot carry; its devices go unheard", slug)
        return usable

    def _run_bridge(
        self, runner: BridgeRunner, url: str, site: str, role: Role, own_stop: BridgeStop
    ) -> None:
        try:
            runner(self.database, url, site, own_stop, role)
        except Exception:
            log.exception("the MQTT bridge of %s failed; stopping the worker", site)
            self.failed = True
        finally:
            # A bridge that returns on its own has nothing left to do: without it the worker
            # would schedule commands no device receives, so stop and let the supervisor
            # restart. (One stopped to change its role returns because it was told to.)
            if not own_stop.is_set():
                self._stop.set()
            own_stop.set()

    def _start_bridge(self, role: Role, *, heard: Collection[str] = ()) -> None:
        """Bridge every centre served, in ``role``; a leader's bridges of the centres in
        ``heard``, whose traffic this worker's followers shared until now, as the successor
        (:attr:`Role.SUCCESSOR`: their devices need not re-birth)."""
        self._role = role
        self._next_site_look = 0.0
        self._bridge_new_sites(heard=heard)

    def _bridge_new_sites(self, *, heard: Collection[str] = ()) -> None:
        """Start a bridge for each centre served that has none yet (at most once a minute);
        those in ``heard`` as the successor (see :meth:`_start_bridge`)."""
        if not self.mqtt_url or time.monotonic() < self._next_site_look:
            return
        self._next_site_look = time.monotonic() + NEW_SITES_EVERY_S
        try:
            sites = self.served_sites()
        except Exception:
            log.exception("could not read the centres; looking again in a minute")
            return
        for site in sites:
            if site in self._bridges:
                continue
            role = Role.SUCCESSOR if site in heard else self._role
            runner = self.bridge
            if runner is default_bridge and len(sites) > 1:
                self._shared = self._shared or Shared(self.database, self.clock)
                runner = functools.partial(district_bridge, shared=self._shared)
            own_stop = BridgeStop()
            thread = threading.Thread(
                target=self._run_bridge,
                args=(runner, self.mqtt_url, site, role, own_stop),
                name=f"linli-bridge-{site}",
                daemon=True,
            )
            self._bridges[site] = (own_stop, thread)
            thread.start()
            log.info("bridging centre %s (%s)", site, role.value)

    def _detach_bridges(self) -> Bridges:
        """The running bridges and what they share, no longer the worker's own."""
        detached = (self._bridges, self._shared)
        self._bridges, self._shared = {}, None
        return detached

    def _stop_bridges(
        self, *, handed_over: bool = False, drain_s: float = 0.0, detached: Bridges | None = None
    ) -> None:
        """Stop every bridge (or the ``detached`` ones); ``handed_over`` when another worker
        may lead by now, so that the leader's bridges leave the server's status as that one set
        it; ``drain_s``: each may take that long to commit what it received first."""
        bridges, shared = detached or self._detach_bridges()
        for own_stop, _ in bridges.values():
            if handed_over:
                own_stop.hand_over()
            elif drain_s:
                own_stop.drain(drain_s)
            else:
                own_stop.set()
        for _, thread in bridges.values():
            deadline = time.monotonic() + BRIDGE_STOP_TIMEOUT + drain_s
            while thread.is_alive() and (left := deadline - time.monotonic()) > 0:
                thread.join(min(left, 0.5))
                if drain_s and self._stop.is_set():  # told to stop meanwhile (a SIGTERM)
                    for own_stop, _ in bridges.values():
                        own_stop.cut_drain()
            if thread.is_alive():
                log.error("%s did not stop within %s s", thread.name, BRIDGE_STOP_TIMEOUT + drain_s)
                self.failed = True
        if shared is not None:
            shared.stop()

    def run(self, stop: threading.Event, *, wait_for_lease: bool = True) -> int:
        """Run until ``stop`` is set; return the exit status (0 after a clean stop)."""
        allow_open_files()
        self.check_schema()
        self._stop = stop
        self._bridges = {}
        if not self.mqtt_url:
            log.warning("LINLI_MQTT_URL is not set: the worker runs without devices")
        if self.several:
            return self._run_several(stop)
        log.info(SQLITE_SINGLE)
        return self._run_single(stop, wait_for_lease=wait_for_lease)

    def _run_single(self, stop: threading.Event, *, wait_for_lease: bool) -> int:
        if not self.acquire_lease(stop, wait=wait_for_lease):
            return 0
        log.info("worker %s holds the lease", self.holder)
        jobs = None
        keeper = threading.Thread(
            target=self._keep_lease, args=(stop,), name="linli-lease", daemon=True
        )
        try:
            jobs = scheduler.start_scheduler(self.database, self.clock, self.retention)
            keeper.start()
            self._start_bridge(Role.SOLE)
            # Wake up now and then so that signal handlers run promptly in the main thread.
            while not stop.wait(0.5):
                self._bridge_new_sites()
        finally:
            stop.set()
            if jobs is not None:
                jobs.shutdown(wait=True)
            self._stop_bridges()
            if keeper.is_alive():
                keeper.join(BRIDGE_STOP_TIMEOUT)
            self.release_lease()
            log.info("worker %s stopped", self.holder)
        return 1 if self.failed else 0

    def _run_several(self, stop: threading.Event) -> int:
        lock = scheduler_lock.SchedulerLock(self.database.url, self.holder, self._scope)
        seat = scheduler_seat.seat_for(self._scope, self.database, self.clock, self.retention,
                                       self.holder)  # fmt: skip
        term = scheduler_lock.Contender(lock)
        jobs = None
        try:
            if term.try_now():
                self._start_bridge(Role.LEADER)
                jobs = self._lead()
            else:
                self._start_bridge(Role.FOLLOWER)
                log.info("worker %s shares the device traffic; %s leads",
                         self.holder, lock.holder_now() or "another worker")  # fmt: skip
            # Wake up now and then so that signal handlers run promptly in the main thread.
            while not stop.wait(0.5):
                self._bridge_new_sites()
                if term.lost:
                    self._step_down(jobs, term)
                    jobs = None
                elif term.try_when_due():
                    # The jobs first: they need the database only, and swapping 200 centres'
                    # bridges took the 200-centre bench's takeover past 10 s (docs/scaling.md).
                    # The watchdog pings the lock meanwhile: stopping the follower's bridges
                    # can take seconds under load, and a lock connection left idle that long
                    # past the server's idle_session_timeout was ended.
                    jobs = self._lead()
                    # The follower's bridge makes way for a leader's: its Will, the retained
                    # kinds' plain subscriptions and the command sender come with the connection.
                    # The leader's start first, then the follower's finish what they received:
                    # the broker drops what was in flight to a clean session's shared
                    # subscription, and each such event cost a resync (docs/scaling.md item 5).
                    followers = self._detach_bridges()
                    self._start_bridge(Role.LEADER, heard=set(followers[0]))
                    self._stop_bridges(drain_s=SWAP_DRAIN_S, detached=followers)
        finally:
            stop.set()
            # The watchdog goes on pinging meanwhile: a job that takes long to finish must not
            # let the server end the lock's idle session and a successor start beside it.
            if jobs is not None:
                jobs.shutdown(wait=True)
            self._stop_bridges(handed_over=term.lost)
            term.end()
            if seat is not None:
                seat.stop()
            log.info("worker %s stopped", self.holder)
        return 1 if self.failed else 0

    def _step_down(self, jobs: BackgroundScheduler | None, term: scheduler_lock.Contender) -> None:
        """The lock's connection failed, so another worker may lead by now: stop the scheduler
        and go on sharing the device traffic as a follower, trying for the lock again. Not
        exiting for the supervisor to restart it: on a starved machine (load 49 on two cores,
        the 200-centre bench) a restart re-birthed every device of the district, the work that
        had starved it; a worker that takes the lock back leads as the successor (no re-birth)."""
        log.error("worker %s lost %s; it stops %s and goes on sharing the device traffic",
                  self.holder, term.lock.name,
                  "leading its centres" if self._scope else "the scheduler")  # fmt: skip
        term.step_down()
        if jobs is not None:
            # No new run starts; a job in hand finishes (the jobs' once-only claims keep it
            # from sending anything twice beside a successor's: kiosk/scheduler_lock.py).
            jobs.shutdown(wait=False)
        self._stop_bridges(handed_over=True)
        self._start_bridge(Role.FOLLOWER)

    def _lead(self) -> BackgroundScheduler | None:
        if self._scope:  # it leads its group's bridges; the seat runs the scheduler
            return None
        log.info("worker %s holds the scheduler lock: it runs the scheduler", self.holder)
        return scheduler.start_scheduler(self.database, self.clock, self.retention)
