"""Scheduled sends go out once, even while two schedulers briefly both run: a unique row in
the database decides (booking/core/sends.py), on PostgreSQL as on SQLite.

The second scheduler's transaction starts while the first's is still open, as when a worker
that lost its lease runs one more round beside its successor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from booking_centre import Centre, at
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.alerts.models.notifications import Notification, NotificationKind
from booking.core import sends
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sends import ScheduledSend
from booking.spaces import jobs as booking_jobs
from booking.spaces import reminders, seats


def book_seat_at_two(database: Database, centre: Centre, clock: FrozenClock) -> int:
    with database.write() as session:
        return seats.book_seat(
            session,
            resident_id=centre.residents[0],
            seat_id=centre.seats[0],
            starts_at=at(14),
            ends_at=at(16),
            now=clock.now(),
        ).id


def while_open(database: Database, first: Callable[[Session], Any], second: Callable[[], Any]):  # type: ignore[no-untyped-def]
    """Run ``first`` in a transaction and, before it commits, ``second`` in another thread;
    return both results once both are done."""
    results: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: results.setdefault("second", second()))
    with database.write() as session:
        results["first"] = first(session)
        session.flush()
        thread.start()
        # The second waits for the first: on the unique row (PostgreSQL) or the write lock.
        thread.join(timeout=0.5)
        assert thread.is_alive()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return results["first"], results["second"]


def count(database: Database, query: Any) -> int:
    with database.read() as session:
        return int(session.scalar(query) or 0)


def test_two_schedulers_at_once_send_a_booking_reminder_once(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    booking_id = book_seat_at_two(any_database, centre, clock)

    def send(session: Session) -> bool:
        return reminders.send_reminder(session, booking_id=booking_id, now=at(13, 30))

    def second_scheduler() -> bool:
        with any_database.write() as session:
            return send(session)

    assert while_open(any_database, send, second_scheduler) == (True, False)
    reminded = select(func.count()).where(Notification.kind == NotificationKind.BOOKING_REMINDER)
    assert count(any_database, reminded) == 1
    assert count(any_database, select(func.count()).select_from(ScheduledSend)) == 1


def test_two_whole_scheduler_rounds_at_once_send_each_reminder_once(
    any_database: Database, centre: Centre, clock: FrozenClock
) -> None:
    book_seat_at_two(any_database, centre, clock)
    barrier = threading.Barrier(2)
    changed: list[int] = []

    def scheduler() -> None:
        barrier.wait()
        changed.append(booking_jobs.run_due(any_database, now=at(13, 30)))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(changed) == [0, 1]
    reminded = select(func.count()).where(Notification.kind == NotificationKind.BOOKING_REMINDER)
    assert count(any_database, reminded) == 1


def test_a_send_is_claimed_once_and_a_rolled_back_claim_is_not_kept(
    any_database: Database, centre: Centre
) -> None:
    def claim(session: Session) -> bool:
        return sends.claim(
            session, site_id=centre.site_id, kind="test.send", key="booking:1", now=at(9)
        )

    try:
        with any_database.write() as session:
            assert claim(session)
            raise RuntimeError("the send failed")
    except RuntimeError:
        pass
    with any_database.write() as session:
        assert claim(session)
        assert not claim(session)
    with any_database.read() as session:
        assert sends.was_sent(session, kind="test.send", key="booking:1")


def test_two_processes_raising_the_same_alert_at_once_open_one_alert(
    any_database: Database, centre: Centre
) -> None:
    def raise_it(session: Session) -> int:
        return alerts.raise_alert(
            session,
            site_id=centre.site_id,
            kind="device.offline",
            severity=AlertSeverity.WARNING,
            summary="locker-a went offline",
            now=at(9),
            dedupe_key="device.offline:locker-a",
        ).id

    def second_process() -> int:
        with any_database.write() as session:
            return raise_it(session)

    first, second = while_open(any_database, raise_it, second_process)

    assert first == second
    still_open = select(func.count()).where(StaffAlert.status != AlertStatus.RESOLVED)
    assert count(any_database, still_open) == 1
