"""What a follower's log says while its tries for the scheduler lock fail (a database outage):
one traceback, a line a minute, and a line when the tries work again."""

from __future__ import annotations

import logging

import pytest

from kiosk import scheduler_lock
from kiosk.scheduler_lock import TryLog


class Seconds:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(tries: TryLog, clock: Seconds, times: int) -> None:
    for _ in range(times):
        tries.failed(ConnectionError("connection refused"))
        clock.now += scheduler_lock.RETRY_EVERY_S


def test_an_hour_of_failed_tries_logs_one_traceback_and_a_line_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Seconds()
    tries = TryLog(clock)
    with caplog.at_level(logging.INFO, logger=scheduler_lock.__name__):
        fail(tries, clock, times=1800)  # an hour, one try every 2 s
    lines = caplog.records
    assert len(lines) == 60
    assert lines[0].exc_info is not None
    assert "could not try for the scheduler lock" in lines[0].getMessage()
    assert all(line.exc_info is None for line in lines[1:])
    assert "still could not try for the scheduler lock, for 60 s now" in lines[1].getMessage()
    assert "connection refused" in lines[1].getMessage()


def test_a_try_that_works_again_says_so_once_and_the_next_failure_is_told_in_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Seconds()
    tries = TryLog(clock)
    with caplog.at_level(logging.INFO, logger=scheduler_lock.__name__):
        fail(tries, clock, times=10)
        tries.tried()
        tries.tried()
        fail(tries, clock, times=1)
    messages = [line.getMessage() for line in caplog.records]
    assert messages[1] == "tried for the scheduler lock again after 20 s of failures"
    assert len(messages) == 3
    assert caplog.records[2].exc_info is not None


def test_tries_that_never_fail_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    tries = TryLog(Seconds())
    with caplog.at_level(logging.INFO, logger=scheduler_lock.__name__):
        for _ in range(100):
            tries.tried()
    assert caplog.records == []
