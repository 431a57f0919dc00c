"""The worker lease and the persistent scheduler."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.core.clock import FrozenClock
from booking.core.db import Database
from kiosk import leases, scheduler

TTL = timedelta(seconds=60)


def acquire(database: Database, holder: str, clock: FrozenClock) -> leases.LeaseHeld | None:
    with database.write() as session:
        return leases.try_acquire(
            session, name=leases.WORKER_LEASE, holder=holder, now=clock.now(), ttl=TTL
        )


def test_only_one_worker_holds_the_lease_at_a_time(
    any_database: Database, clock: FrozenClock
) -> None:
    assert acquire(any_database, "worker-1", clock) is None
    held = acquire(any_database, "worker-2", clock)
    assert held is not None
    assert held.holder == "worker-1"
    assert held.expires_at == clock.now() + TTL


def test_the_holder_renews_its_lease_before_it_runs_out(
    any_database: Database, clock: FrozenClock
) -> None:
    acquire(any_database, "worker-1", clock)
    clock.advance(timedelta(seconds=50))
    assert acquire(any_database, "worker-1", clock) is None
    clock.advance(timedelta(seconds=50))
    assert acquire(any_database, "worker-2", clock) is not None


def test_a_crashed_workers_lease_is_taken_over_once_it_expires(
    any_database: Database, clock: FrozenClock
) -> None:
    acquire(any_database, "crashed", clock)
    clock.advance(TTL + timedelta(seconds=1))
    assert acquire(any_database, "worker-2", clock) is None
    assert acquire(any_database, "crashed", clock) is not None


def test_a_released_lease_is_free_at_once(any_database: Database, clock: FrozenClock) -> None:
    acquire(any_database, "worker-1", clock)
    with any_database.write() as session:
        leases.release(session, name=leases.WORKER_LEASE, holder="worker-1")
    assert acquire(any_database, "worker-2", clock) is None


def test_releasing_someone_elses_lease_does_nothing(
    any_database: Database, clock: FrozenClock
) -> None:
    acquire(any_database, "worker-1", clock)
    with any_database.write() as session:
        leases.release(session, name=leases.WORKER_LEASE, holder="worker-2")
    assert acquire(any_database, "worker-2", clock) is not None


TEST_JOBS = (
    scheduler.JobSpec("test.every_minute", scheduler.expire_overdue_commands, timedelta(minutes=1)),
    scheduler.JobSpec("test.every_hour", scheduler.mark_silent_devices_offline, timedelta(hours=1)),
)


def stored_jobs(database: Database, clock: FrozenClock) -> dict[str, object]:
    fresh = scheduler.build_scheduler(database, clock)
    fresh.start(paused=True)
    try:
        return {job.id: job for job in fresh.get_jobs()}
    finally:
        fresh.shutdown()


def test_jobs_are_stored_by_explicit_id_and_survive_a_restart(
    database: Database, clock: FrozenClock
) -> None:
    first = scheduler.build_scheduler(database, clock)
    first.start(paused=True)
    assert scheduler.add_jobs(first, TEST_JOBS) == ["test.every_minute", "test.every_hour"]
    first.shutdown()
    jobs = stored_jobs(database, clock)
    assert set(jobs) == {"test.every_minute", "test.every_hour"}


def test_adding_the_jobs_again_replaces_them_instead_of_duplicating(
    database: Database, clock: FrozenClock
) -> None:
    for _ in range(2):
        s = scheduler.build_scheduler(database, clock)
        s.start(paused=True)
        scheduler.add_jobs(s, TEST_JOBS)
        s.shutdown()
    assert len(stored_jobs(database, clock)) == 2


def test_jobs_run_late_once_rather_than_being_skipped_after_downtime(
    database: Database, clock: FrozenClock
) -> None:
    s = scheduler.build_scheduler(database, clock)
    s.start(paused=True)
    scheduler.add_jobs(s, TEST_JOBS)
    s.shutdown()
    for job in stored_jobs(database, clock).values():
        assert job.coalesce is True  # type: ignore[attr-defined]
        assert job.misfire_grace_time == scheduler.MISFIRE_GRACE_SECONDS  # type: ignore[attr-defined]
        assert scheduler.MISFIRE_GRACE_SECONDS > 1


def test_a_stored_job_this_version_no_longer_has_is_removed(
    database: Database, clock: FrozenClock
) -> None:
    s = scheduler.build_scheduler(database, clock)
    s.start(paused=True)
    scheduler.add_jobs(s, TEST_JOBS)
    assert scheduler.add_jobs(s, TEST_JOBS[1:]) == ["test.every_hour"]
    s.shutdown()
    assert set(stored_jobs(database, clock)) == {"test.every_hour"}


def test_the_worker_schedules_the_booking_device_and_command_jobs() -> None:
    assert {spec.id for spec in scheduler.JOBS} == {
        "booking.run_due",
        "devices.mark_silent_offline",
        "devices.expire_overdue_commands",
        "devices.settle_sequence_gaps",
        "health.purge_expired",
        "lending.run_due",
        "messages.send_due",
        "retention.prune",
        "people.erase_deactivated",
    }


def test_the_booking_job_records_that_the_service_is_alive_at_every_site(
    database: Database, clock: FrozenClock
) -> None:
    from sqlalchemy import select

    from booking.core.models.sites import Site
    from booking.core.models.uptime import Heartbeat

    with database.write() as session:
        session.add_all(
            [
                Site(slug="one", name_zh="一", name_en="One"),
                Site(slug="two", name_zh="二", name_en="Two"),
            ]
        )
    scheduler.set_runtime(database, clock)
    scheduler.run_booking_jobs()
    with database.read() as session:
        seen = session.scalars(select(Heartbeat.last_seen_at)).all()
    assert seen == [clock.now(), clock.now()]


def test_a_job_outside_the_worker_refuses_to_guess_its_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(scheduler, "_runtime", None)
    with pytest.raises(RuntimeError, match="linli worker"):
        scheduler.runtime()
