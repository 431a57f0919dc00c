"""Scheduled booking jobs: plain, idempotent functions of ids and times.

The worker's scheduler calls :func:`run_due` every minute (and once at start, right after
``uptime.record_heartbeat``, to catch up after downtime). Each job re-reads the booking and
does nothing unless its moment has come and the booking is still in the state it expects,
so running a job twice, late, or for a booking someone already changed is harmless.

Catching up never punishes a resident for the server's outage: a no-show strike is given
only if ``uptime.was_up`` shows the service alive through the whole check-in window, and a
temporary leave is only ended if it was alive through the whole leave (else the resident is
taken to be back: they may have returned while the kiosk could not record it). A reminder
missed during an outage is still sent while the booking has not started, never after (see
``booking/spaces/reminders.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import row_locks, uptime
from booking.core.db import Database
from booking.core.due_jobs import DueJob, run_all_due
from booking.spaces import releases, reminders, series, strikes, waitlist
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.series import BookingSeries
from booking.spaces.models.spaces import Space


def _rules(session: Session, booking: Booking) -> booking_rules.Rules:
    return booking_rules.rules_for(session, session.get_one(Space, booking.space_id))


def release_no_show(session: Session, *, booking_id: int, now: datetime) -> bool:
    """Release a seat nobody checked in to by the end of its check-in window (15 minutes after
    its start, or after it was made if later: booking_rules.check_in_window), with a strike."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.seat_id is None or booking.status is not BookingStatus.CONFIRMED:
        return False
    rules = _rules(session, booking)
    window_start, window_end = booking_rules.check_in_window(booking, rules)
    if now < window_end:
        return False
    kiosk_was_up = uptime.was_up(
        session, site_id=booking.site_id, starts_at=window_start, ends_at=window_end
    )
    if booking.resident_id is not None:
        # The strike below locks the resident; taken now, before the release locks the seat,
        # as seat booking does (resident, then seat), so the two never wait on each other.
        row_locks.lock_resident(session, booking.resident_id)
    releases.release(
        session,
        booking,
        status=BookingStatus.NO_SHOW,
        now=now,
        reason="no check-in" if kiosk_was_up else "no check-in; the kiosk was down: no strike",
    )
    if kiosk_was_up:
        strikes.give_strike(
            session,
            booking,
            now=now,
            strikes_to_suspend=rules.strikes_to_suspend,
            window=timedelta(days=rules.strike_window_days),
            suspension=timedelta(days=rules.suspension_days),
        )
    return True


def end_temporary_leave(session: Session, *, booking_id: int, now: datetime) -> bool:
    """Release a seat whose temporary leave ran past 30 minutes (from the end of the leave)."""
    booking = session.get(Booking, booking_id)
    if (
        booking is None
        or booking.status is not BookingStatus.ON_LEAVE
        or booking.leave_started_at is None
    ):
        return False
    rules = _rules(session, booking)
    deadline = booking.leave_started_at + timedelta(minutes=rules.max_leave_minutes)
    if now < deadline:
        return False
    if not uptime.was_up(
        session, site_id=booking.site_id, starts_at=booking.leave_started_at, ends_at=deadline
    ):
        booking.come_back()
        session.flush()
        return True
    releases.release(
        session,
        booking,
        status=BookingStatus.RELEASED,
        now=now,
        reason="temporary leave too long",
        used_until=deadline,
    )
    return True


def finish_past(session: Session, *, booking_id: int, now: datetime) -> bool:
    """Close a booking whose time is over: used ones complete, undecided ones lapse."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.ends_at > now:
        return False
    if booking.status in (BookingStatus.CHECKED_IN, BookingStatus.ON_LEAVE) or (
        booking.status is BookingStatus.CONFIRMED and booking.seat_id is None
    ):
        booking.finish(BookingStatus.COMPLETED, now)
    elif booking.status is BookingStatus.PENDING:
        booking.finish(BookingStatus.EXPIRED, now, reason="not decided in time")
    else:
        return False
    session.flush()
    return True


def expire_offer(session: Session, *, booking_id: int, now: datetime) -> bool:
    return waitlist.expire_offer(session, booking_id=booking_id, now=now)


def materialise_series(session: Session, *, series_id: int, now: datetime) -> bool:
    return bool(series.materialise(session, series_id=series_id, now=now).created)


def send_reminder(session: Session, *, booking_id: int, now: datetime) -> bool:
    return reminders.send_reminder(session, booking_id=booking_id, now=now)


JOBS: dict[str, Callable[..., bool]] = {
    "send_reminder": lambda s, i, now: send_reminder(s, booking_id=i, now=now),
    "release_no_show": lambda s, i, now: release_no_show(s, booking_id=i, now=now),
    "end_temporary_leave": lambda s, i, now: end_temporary_leave(s, booking_id=i, now=now),
    "expire_offer": lambda s, i, now: expire_offer(s, booking_id=i, now=now),
    "finish_past": lambda s, i, now: finish_past(s, booking_id=i, now=now),
    "materialise_series": lambda s, i, now: materialise_series(s, series_id=i, now=now),
}


def due(session: Session, *, now: datetime) -> list[DueJob]:
    """Every job whose moment has come, in the order they must run.

    Candidates are found generously (rules differ per space); each job checks its own time.
    No-shows run before ``finish_past`` so an unused seat is a no-show, not "completed".
    """
    jobs = [DueJob("send_reminder", i) for i in reminders.due_booking_ids(session, now=now)]
    jobs += [
        DueJob("release_no_show", i)
        for i in session.scalars(
            select(Booking.id).where(
                Booking.status == BookingStatus.CONFIRMED,
                Booking.seat_id.is_not(None),
                Booking.starts_at <= now,
            )
        )
    ]
    jobs += [
        DueJob("end_temporary_leave", i)
        for i in session.scalars(
            select(Booking.id).where(
                Booking.status == BookingStatus.ON_LEAVE, Booking.leave_started_at <= now
            )
        )
    ]
    jobs += [
        DueJob("expire_offer", i)
        for i in session.scalars(
            select(Booking.id).where(
                Booking.status == BookingStatus.HELD, Booking.hold_expires_at <= now
            )
        )
    ]
    jobs += [
        DueJob("finish_past", i)
        for i in session.scalars(
            select(Booking.id).where(
                Booking.status.in_(
                    (
                        BookingStatus.CHECKED_IN,
                        BookingStatus.ON_LEAVE,
                        BookingStatus.CONFIRMED,
                        BookingStatus.PENDING,
                    )
                ),
                Booking.ends_at <= now,
            )
        )
    ]
    today = now.date() - timedelta(days=1)
    jobs += [
        DueJob("materialise_series", i)
        for i in session.scalars(select(BookingSeries.id).where(BookingSeries.ends_on >= today))
    ]
    return jobs


def run(session: Session, job: DueJob, *, now: datetime) -> bool:
    """Run one job with its row locked.

    Two schedulers may run for a moment at once (a worker that lost its lease and does not
    know it yet, and its successor). The second waits here for the first to commit and then
    reads what it did, so a seat is released, struck or offered once (on SQLite the write
    transaction already waits for the lock).
    """
    target = BookingSeries if job.name == "materialise_series" else Booking
    session.get(target, job.target_id, with_for_update=True)
    return JOBS[job.name](session, job.target_id, now)


def run_due(database: Database, *, now: datetime) -> int:
    """Run every due job, each in its own short transaction; how many changed something."""
    return run_all_due(database, due, run, now=now)
