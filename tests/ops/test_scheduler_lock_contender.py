"""A worker's contention for a lock (``scheduler_lock.Contender``), as the worker's own loop
and the scheduler seat both use it: one leader at a time, a try every 2 s while not leading,
a lost connection noticed by the watchdog, and a successor after a step-down."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from test_scheduler_lock_tries import Seconds
from test_worker import wait_for
from test_worker_groups import Schedulers, cut_the_lock_connection

from booking.core.clock import FrozenClock
from booking.core.db import Database
from kiosk import scheduler, scheduler_lock
from kiosk.scheduler_lock import Contender, SchedulerLock
from kiosk.scheduler_seat import SchedulerSeat

pytestmark = pytest.mark.postgres


@pytest.fixture
def two(postgres_database: Database) -> Iterator[tuple[Seconds, Contender, Contender]]:
    """Two workers' contenders for the same lock, on one clock the test moves."""
    clock = Seconds()
    first, second = (
        Contender(SchedulerLock(postgres_database.url, holder), clock) for holder in ("w1", "w2")
    )
    try:
        yield clock, first, second
    finally:
        first.end()
        second.end()


def test_one_contender_leads_and_the_other_tries_every_two_seconds_until_it_is_let_go(
    two: tuple[Seconds, Contender, Contender],
) -> None:
    clock, first, second = two
    assert first.try_when_due() is True
    assert second.try_when_due() is False
    assert second.try_when_due() is False  # not due yet: nothing asked

    first.end()
    assert second.try_when_due() is False  # still not due
    clock.now += scheduler_lock.RETRY_EVERY_S
    assert second.try_when_due() is True
    assert (first.leading, second.leading) == (False, True)


def test_a_cut_lock_connection_is_lost_and_after_the_step_down_another_leads(
    postgres_database: Database, two: tuple[Seconds, Contender, Contender]
) -> None:
    clock, first, second = two
    assert first.try_when_due() is True
    assert first.lost is False

    assert cut_the_lock_connection(postgres_database, "linli-scheduler w1") == 1
    assert wait_for(lambda: first.lost, scheduler_lock.PING_EVERY_S + 5)

    first.step_down()
    assert (first.leading, first.lost) == (False, False)
    clock.now += scheduler_lock.RETRY_EVERY_S
    assert second.try_when_due() is True
    assert first.try_when_due() is False  # the successor leads now


def test_a_try_the_database_cannot_answer_is_logged_and_the_next_is_due_as_usual(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Seconds()
    unreachable = Contender(
        SchedulerLock("postgresql+psycopg://postgres@127.0.0.1:1/test", "w1"), clock
    )
    with caplog.at_level(logging.ERROR, logger=scheduler_lock.__name__):
        assert unreachable.try_when_due() is False
        assert unreachable.try_when_due() is False  # not due: not asked again
    assert ["could not try for the scheduler lock; trying every 2 s"] == [
        record.getMessage() for record in caplog.records
    ]
    unreachable.end()


def test_a_group_s_lock_is_named_for_its_centres_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lock = SchedulerLock("postgresql+psycopg://postgres@127.0.0.1:1/test", "w1", ":a,b")
    with caplog.at_level(logging.ERROR, logger=scheduler_lock.__name__):
        Contender(lock, Seconds()).try_when_due()
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("could not try for the lock that leads centres a,b")
    )
    lock.release()


def test_a_seat_whose_lock_connection_is_cut_stops_its_scheduler_and_takes_the_lock_back(
    postgres_database: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = Schedulers()
    monkeypatch.setattr(scheduler, "start_scheduler", found.start)
    seat = SchedulerSeat(postgres_database, clock, None, "seat-1").start()
    try:
        assert wait_for(lambda: found.running == 1)
        assert cut_the_lock_connection(postgres_database, "linli-scheduler seat-1") == 1
        # Stopped when the watchdog notices, started again when the seat's next try wins:
        # never two at once.
        assert wait_for(lambda: found.started == 2, 2 * scheduler_lock.PING_EVERY_S + 10)
        assert (found.running, found.most) == (1, 1)
    finally:
        seat.stop()
    assert found.running == 0
