"""Periodic jobs: APScheduler 3 with its job store in the application's database.

Only ``linli worker`` builds a scheduler, and only while it holds the worker lease (SQLite,
``kiosk.leases``) or the scheduler lock (PostgreSQL, ``kiosk.scheduler_lock``): the web app
factory never starts one, so gunicorn's workers cannot each run every job. Jobs are stored by
explicit id and replaced on start, so a restart neither duplicates them nor loses them.

A job is a module-level function without arguments (the job store pickles a reference to it,
never a database or a clock); it finds the process's database and clock in ``runtime`` and
opens its own short ``Database.write()`` transaction.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import retention, uptime
from booking.core.clock import Clock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.health import retention as health_retention
from booking.lending import jobs as lending_jobs
from booking.messages import retention as message_retention
from booking.messages import sending as message_sending
from booking.messages.sending import Channel
from booking.people import erasure
from booking.spaces import jobs as booking_jobs
from devices.commands import operations as commands
from devices.fleet import registry
from devices.fleet import retention as device_retention
from devices.ingest import dead_letters, gaps
from devices.locker import opening as lending_locker
from kiosk.messaging.channels import channels_from_env

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
# APScheduler's default grace is 1 s: a run missed while the worker was down or busy would be
# skipped without a word. An hour's grace with coalescing runs it once, late, instead.
MISFIRE_GRACE_SECONDS = 3600
JOB_DEFAULTS: dict[str, Any] = {
    "coalesce": True,
    "misfire_grace_time": MISFIRE_GRACE_SECONDS,
    "max_instances": 1,
}


@dataclass(frozen=True)
class Runtime:
    database: Database
    clock: Clock
    retention: retention.RetentionPeriods = retention.RetentionPeriods()
    channels: Mapping[str, Channel] = field(default_factory=dict)


_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The database and clock of this worker process, set by :func:`build_scheduler`."""
    if _runtime is None:
        raise RuntimeError("no scheduler runtime: jobs run only inside `linli worker`")
    return _runtime


def set_runtime(
    database: Database,
    clock: Clock,
    periods: retention.RetentionPeriods | None = None,
    channels: Mapping[str, Channel] | None = None,
) -> None:
    """``channels`` default to those the ``LINLI_SMS_*`` settings choose: a wrong setting
    stops the worker at its start, not at its first message."""
    global _runtime
    if channels is None:
        channels = channels_from_env(os.environ)
    _runtime = Runtime(database, clock, periods or retention.RetentionPeriods(), channels)


# --- the jobs ----------------------------------------------------------------------------------


def mark_silent_devices_offline() -> None:
    """Devices whose heartbeat stopped without a Last Will (power cut, broker lost it)."""
    rt = runtime()
    with rt.database.write() as session:
        registry.mark_silent_devices_offline(session, rt.clock.now())


def settle_sequence_gaps() -> None:
    """Seq gaps: closed once their late messages are applied (another worker had them), or a
    resync once the wait is over (devices.ingest.gaps)."""
    rt = runtime()
    # A read first: there is almost never a gap, and a write transaction every 2 s would take
    # SQLite's one writer (BEGIN IMMEDIATE) from the kiosk's bookings for nothing.
    with rt.database.read() as session:
        if not gaps.any_open(session):
            return
    with rt.database.write() as session:
        gaps.settle_gaps(session, rt.clock.now())


def expire_overdue_commands() -> None:
    """Commands the device never answered before ``expires_at``: tell the waiting screen."""
    rt = runtime()
    with rt.database.write() as session:
        commands.expire_overdue(session, rt.clock.now())


def run_booking_jobs() -> None:
    """Note that the service is alive at every site, then run every booking job now due.

    The heartbeat comes first: after downtime it records the outage, which the catching-up
    jobs consult so that nobody gets a no-show strike for the server's own absence.
    """
    rt = runtime()
    now = rt.clock.now()
    with rt.database.write() as session:
        uptime.record_heartbeats(session, site_ids=session.scalars(select(Site.id)).all(), now=now)
    booking_jobs.run_due(rt.database, now=now)


def purge_expired_health_readings() -> None:
    """Readings older than their site's retention period (default two years) go (PIPL)."""
    rt = runtime()
    with rt.database.write() as session:
        health_retention.purge_expired(session, rt.clock.now())


def prune_old_records() -> None:
    """Delete ended sign-in sessions, finished commands, device messages, text messages and
    refused device messages older than the operator's periods, in short transactions
    (booking.core.retention, devices.fleet.retention, booking.messages.retention,
    devices.ingest.dead_letters)."""
    rt = runtime()
    now = rt.clock.now()
    keep = rt.retention
    sessions = _in_batches(
        rt.database, partial(retention.prune_sessions, before=now - keep.sessions)
    )
    finished = _in_batches(
        rt.database, partial(device_retention.prune_commands, before=now - keep.device_commands)
    )
    texts = _in_batches(
        rt.database, partial(message_retention.prune_messages, before=now - keep.messages)
    )
    refused = _in_batches(
        rt.database, partial(dead_letters.prune_before, before=now - keep.dead_letters)
    )
    ledger_before = now - keep.device_messages
    with rt.database.read() as session:
        device_ids = device_retention.devices_with_old_messages(session, before=ledger_before)
    messages = sum(
        _in_batches(
            rt.database,
            partial(device_retention.prune_ledger, device_id=device_id, before=ledger_before),
        )
        for device_id in device_ids
    )
    if sessions or finished or messages or texts or refused:
        log.info(
            "retention: deleted %d device messages, %d commands, %d sessions, %d texts and "
            "%d refused device messages",
            messages,
            finished,
            sessions,
            texts,
            refused,
        )
    else:
        log.debug("retention: nothing older than the periods")


def _in_batches(database: Database, prune: Callable[[Session], int]) -> int:
    """Run ``prune`` (which deletes at most one batch) in fresh transactions until it finds
    less than a batch; the total deleted."""
    total = 0
    while True:
        with database.write() as session:
            deleted = prune(session)
        total += deleted
        if deleted < retention.BATCH:
            return total


def erase_deactivated_residents() -> None:
    """Erase the personal data of residents deactivated longer than the operator's period
    (booking.people.erasure), one resident per short transaction."""
    rt = runtime()
    now = rt.clock.now()
    keep = rt.retention.deactivated_residents
    erased = 0
    while True:
        with rt.database.read() as session:
            due = erasure.due_for_erasure(session, now=now, keep=keep)
        for resident_id in due:
            with rt.database.write() as session:
                erased += erasure.erase_one(session, resident_id=resident_id, now=now, keep=keep)
        if len(due) < erasure.BATCH:
            break
    if erased:
        log.info("retention: erased the personal data of %d deactivated residents", erased)


def run_lending_jobs() -> None:
    """Settle pickups and returns whose compartment did not open or was not opened in time,
    release expired holds, mark loans overdue and escalate old ones."""
    rt = runtime()
    now = rt.clock.now()
    with rt.database.write() as session:
        lending_locker.settle_all(session, now)
    lending_jobs.run_due(rt.database, now=now)


def send_messages() -> None:
    """Send residents' due messages (booking.messages.sending): retried with backoff, given
    up to a staff alert."""
    rt = runtime()
    sent = message_sending.send_due(rt.database, rt.channels, now=rt.clock.now())
    if sent.sent or sent.failed:
        log.info("messages: %d sent, %d failed", sent.sent, sent.failed)


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], None]
    every: timedelta


JOBS: tuple[JobSpec, ...] = (
    JobSpec("devices.mark_silent_offline", mark_silent_devices_offline, timedelta(seconds=30)),
    JobSpec("devices.expire_overdue_commands", expire_overdue_commands, timedelta(seconds=5)),
    # Every 2 s against a 3 s wait: a lost message is asked for 3 to 5 s after it was missed.
    JobSpec("devices.settle_sequence_gaps", settle_sequence_gaps, timedelta(seconds=2)),
    JobSpec("booking.run_due", run_booking_jobs, uptime.HEARTBEAT_EVERY),
    JobSpec("lending.run_due", run_lending_jobs, timedelta(seconds=15)),
    JobSpec("messages.send_due", send_messages, timedelta(seconds=20)),
    JobSpec("health.purge_expired", purge_expired_health_readings, timedelta(hours=6)),
    JobSpec("retention.prune", prune_old_records, timedelta(hours=1)),
    JobSpec("people.erase_deactivated", erase_deactivated_residents, timedelta(hours=6)),
)


# --- the scheduler -----------------------------------------------------------------------------


# APScheduler's executor logs every run at INFO ("Running job …", "… executed
# successfully"): with a job every 5 s that was 99% of worker.log. A run is routine; a missed
# run (WARNING) and a failed one (ERROR) are not, and keep their level.
EXECUTOR_LOGGER = "apscheduler.executors.default"


class RoutineRunsAtDebug(logging.Filter):
    """Log the executor's INFO lines at DEBUG: shown only where DEBUG is enabled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def log_routine_runs_at_debug() -> None:
    """Install :class:`RoutineRunsAtDebug` on the executor's logger (once)."""
    executor_log = logging.getLogger(EXECUTOR_LOGGER)
    if not any(isinstance(f, RoutineRunsAtDebug) for f in executor_log.filters):
        executor_log.addFilter(RoutineRunsAtDebug())


def build_scheduler(
    database: Database, clock: Clock, periods: retention.RetentionPeriods | None = None
) -> BackgroundScheduler:
    """A scheduler (not started) whose persistent jobs live in ``database``."""
    set_runtime(database, clock, periods)
    log_routine_runs_at_debug()
    stored = SQLAlchemyJobStore(engine=database.engine, tablename=JOBS_TABLE)
    # APScheduler makes its table in a deferred transaction, a look and then CREATE, which
    # SQLite refuses at once if another writer (a worker waiting for the lease, the web) came
    # in between: seen in CI. Made here as a writer, its own look then finds the table.
    with database.write() as session:
        stored.jobs_t.create(session.connection(), checkfirst=True)
    return BackgroundScheduler(
        jobstores={
            "default": stored,
            # For jobs that belong to this process only and must not outlive it.
            "process": MemoryJobStore(),
        },
        job_defaults=JOB_DEFAULTS,
        timezone="UTC",
    )


def add_jobs(scheduler: BackgroundScheduler, jobs: tuple[JobSpec, ...] = JOBS) -> list[str]:
    """Add (or replace) every job, remove stored jobs no longer listed; return the ids added.

    Call it on a started (possibly paused) scheduler, so that the stored jobs are visible.
    """
    wanted = {spec.id for spec in jobs}
    for stored in scheduler.get_jobs(jobstore="default"):
        if stored.id not in wanted:
            log.info("removing job %s: no longer part of this version", stored.id)
            scheduler.remove_job(stored.id, jobstore="default")
    for spec in jobs:
        scheduler.add_job(
            spec.func,
            "interval",
            seconds=spec.every.total_seconds(),
            id=spec.id,
            name=spec.id,
            replace_existing=True,
            jobstore="default",
        )
    return [spec.id for spec in jobs]


def start_scheduler(
    database: Database, clock: Clock, periods: retention.RetentionPeriods | None = None
) -> BackgroundScheduler:
    """Build, load the stored jobs, bring them up to date, then let them run.

    Started paused so that the stored jobs are loaded (and stale ones removed) before any of
    them fires with an outdated schedule.
    """
    scheduler = build_scheduler(database, clock, periods)
    scheduler.start(paused=True)
    try:
        add_jobs(scheduler)
    except BaseException:
        scheduler.shutdown(wait=False)
        raise
    scheduler.resume()
    return scheduler
