"""What the worker writes to its log: routine job runs only at DEBUG, failures always."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent

from booking.core.clock import FrozenClock
from booking.core.db import Database
from kiosk import scheduler


def routine() -> None:
    """A job that did its routine work."""


def broken() -> None:
    raise RuntimeError("the job broke")


def run_two_jobs(database: Database, clock: FrozenClock) -> None:
    """Run one routine job and one failing job through the worker's own scheduler."""
    jobs = scheduler.build_scheduler(database, clock)
    finished: list[JobExecutionEvent] = []
    both = threading.Event()

    def on_finished(event: JobExecutionEvent) -> None:
        finished.append(event)
        if len(finished) == 2:
            both.set()

    jobs.add_listener(on_finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    jobs.start()
    try:
        for func in (routine, broken):
            jobs.add_job(func, "date", run_date=datetime.now(UTC), jobstore="process")
        assert both.wait(10), "the jobs did not run"
    finally:
        jobs.shutdown(wait=True)


def test_a_routine_job_run_is_not_logged_at_info(
    database: Database, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    run_two_jobs(database, clock)
    executor = [r for r in caplog.records if r.name == scheduler.EXECUTOR_LOGGER]
    assert [r.levelname for r in executor] == ["ERROR"]
    assert "the job broke" in caplog.text


def test_at_debug_every_job_run_is_logged(
    database: Database, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run_two_jobs(database, clock)
    executor = [r for r in caplog.records if r.name == scheduler.EXECUTOR_LOGGER]
    assert sorted({r.levelname for r in executor}) == ["DEBUG", "ERROR"]
    assert any("routine" in r.getMessage() and "executed" in r.getMessage() for r in executor)
