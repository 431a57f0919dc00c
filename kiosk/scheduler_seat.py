"""The deployment's one scheduler, for workers limited to some of its centres.

A worker of every centre (the district's) leads two things with one lock
(:mod:`kiosk.scheduler_lock`): the scheduler, and the leading bridges of its centres, which
publish their commands and the server's status and hear the retained kinds. Workers split
between groups by ``LINLI_WORKER_SITES`` (a city's hundreds of centres) need a leader in every
group: with one lock for the deployment, the groups but the leader's had followers only, and
their centres' commands were never sent and their server status never said `online`. The
scheduler's jobs cover every centre and must run once, though.

So a worker limited to some centres leads its bridges with a lock of its group's own
(:func:`bridge_scope`), and runs a :class:`SchedulerSeat`: it contends, with every other
worker of every group, for the deployment's lock, and runs the scheduler while it holds it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from apscheduler.schedulers.background import BackgroundScheduler

from booking.core.clock import Clock
from booking.core.db import Database
from booking.core.retention import RetentionPeriods
from kiosk import scheduler, scheduler_lock

log = logging.getLogger(__name__)


def bridge_scope(sites: Sequence[str] | None) -> str:
    """The scope of the lock that leads a worker's bridges: the deployment's own ("", the
    scheduler's lock too) for a worker of every centre, its group's for one limited to some."""
    return "" if sites is None else ":" + ",".join(sorted(sites))


def seat_for(
    scope: str, database: Database, clock: Clock, retention: RetentionPeriods | None, holder: str
) -> SchedulerSeat | None:
    """A started seat for a worker whose bridges' lock has ``scope``; None for a worker of
    every centre, whose bridges' lock is the scheduler's."""
    return SchedulerSeat(database, clock, retention, holder).start() if scope else None


class SchedulerSeat:
    """``start()``, then ``stop()``: runs the scheduler while this worker holds the
    deployment's scheduler lock, trying for it every :data:`scheduler_lock.RETRY_EVERY_S`
    (:class:`scheduler_lock.Contender`)."""

    def __init__(
        self, database: Database, clock: Clock, retention: RetentionPeriods | None, holder: str
    ) -> None:
        self.database, self.clock, self.retention = database, clock, retention
        self.lock = scheduler_lock.SchedulerLock(database.url, holder)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="linli-scheduler-seat", daemon=True)

    def start(self) -> SchedulerSeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        jobs: BackgroundScheduler | None = None
        term = scheduler_lock.Contender(self.lock)
        try:
            while not self._stop.is_set():
                if term.lost:
                    log.error("worker %s lost the scheduler lock; it stops the scheduler",
                              self.lock.holder)  # fmt: skip
                    term.step_down()
                    if jobs is not None:
                        jobs.shutdown(wait=False)  # a job in hand finishes (its once-only claims)
                    jobs = None
                elif term.try_when_due():
                    log.info("worker %s holds the scheduler lock: it runs the scheduler",
                             self.lock.holder)  # fmt: skip
                    jobs = self._start_jobs(term)
                self._stop.wait(0.5)
        finally:
            # Pinged until the jobs are done: a successor must not start beside them.
            if jobs is not None:
                jobs.shutdown(wait=True)
            term.end()

    def _start_jobs(self, term: scheduler_lock.Contender) -> BackgroundScheduler | None:
        """The scheduler started; None, with the lock let go for another worker to try, if
        it would not start. A seat whose thread died of it would leave the deployment with
        no scheduler once every worker's had (the worker's own path exits for its
        supervisor instead)."""
        try:
            return scheduler.start_scheduler(self.database, self.clock, self.retention)
        except Exception:
            log.exception("the scheduler would not start; the lock is let go and tried again")
            term.step_down()
            return None
