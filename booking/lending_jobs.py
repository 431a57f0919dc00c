"""Scheduled lending jobs: plain, idempotent functions of ids and times.

The worker runs :func:`run_due` every minute. Each job re-reads its row and does nothing
unless its moment has come and the row is still in the state it expects, so running a job
twice, late, or after someone changed the row is harmless. Overdue loans are marked by the
same job (at most a minute late, rather than "daily at midnight" with a missed day when the
worker was down at midnight).

The pickup/return checks that need the device's command state (rejected, timed out) live in
``devices.lending_locker``; this module only knows lending's own clocks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking import lending
from booking.db import Database
from booking.due_jobs import DueJob, run_all_due
from booking.models import (
    Loan,
    LoanStatus,
    ReleaseReason,
    Reservation,
    ReservationState,
    ReturnAttempt,
    ReturnState,
)

SYSTEM_ACTOR = "system:lending_jobs"


def release_expired_hold(session: Session, target_id: int, now: datetime) -> bool:
    """A reserved item nobody came to open within the hold goes back on the shelf."""
    reservation = session.get(Reservation, target_id, with_for_update=True)
    if reservation is None or reservation.state is not ReservationState.RESERVED:
        return False
    if reservation.expires_at > now:
        return False
    return lending.release(
        session, reservation, ReleaseReason.HOLD_EXPIRED, now, actor=SYSTEM_ACTOR
    )


def release_unopened_pickup(session: Session, target_id: int, now: datetime) -> bool:
    """The compartment was unlocked for a pickup but nobody opened its door in time."""
    reservation = session.get(Reservation, target_id, with_for_update=True)
    if reservation is None or reservation.state is not ReservationState.OPENING:
        return False
    if not lending.door_timed_out(
        reservation, now, lending.policy_for(session, reservation.site_id)
    ):
        return False
    return lending.release(
        session, reservation, ReleaseReason.DOOR_NOT_OPENED, now, actor=SYSTEM_ACTOR
    )


def release_unopened_return(session: Session, target_id: int, now: datetime) -> bool:
    attempt = session.get(ReturnAttempt, target_id, with_for_update=True)
    if attempt is None or attempt.state is not ReturnState.OPENING:
        return False
    if not lending.door_timed_out(attempt, now, lending.policy_for(session, attempt.site_id)):
        return False
    return lending.release_return(
        session, attempt, ReleaseReason.DOOR_NOT_OPENED, now, actor=SYSTEM_ACTOR
    )


def mark_overdue(session: Session, target_id: int, now: datetime) -> bool:
    loan = session.get(Loan, target_id, with_for_update=True)
    if loan is None or loan.status is not LoanStatus.ACTIVE or loan.due_at > now:
        return False
    lending.mark_overdue(session, loan, now, lending.policy_for(session, loan.site_id))
    return True


def escalate_overdue(session: Session, target_id: int, now: datetime) -> bool:
    loan = session.get(Loan, target_id, with_for_update=True)
    if loan is None:
        return False
    return lending.escalate(session, loan, now, lending.policy_for(session, loan.site_id))


JOBS: Mapping[str, Callable[[Session, int, datetime], bool]] = {
    "release_expired_hold": release_expired_hold,
    "release_unopened_pickup": release_unopened_pickup,
    "release_unopened_return": release_unopened_return,
    "mark_overdue": mark_overdue,
    "escalate_overdue": escalate_overdue,
}


def due(session: Session, *, now: datetime) -> list[DueJob]:
    """The jobs that may have something to do at ``now`` (each re-checks for itself)."""
    jobs = [
        DueJob("release_expired_hold", i)
        for i in session.scalars(
            select(Reservation.id).where(
                Reservation.state == ReservationState.RESERVED, Reservation.expires_at <= now
            )
        )
    ]
    jobs += [
        DueJob("release_unopened_pickup", i)
        for i in session.scalars(
            select(Reservation.id).where(
                Reservation.state == ReservationState.OPENING,
                Reservation.unlocked_at.is_not(None),
            )
        )
    ]
    jobs += [
        DueJob("release_unopened_return", i)
        for i in session.scalars(
            select(ReturnAttempt.id).where(
                ReturnAttempt.state == ReturnState.OPENING, ReturnAttempt.unlocked_at.is_not(None)
            )
        )
    ]
    jobs += [
        DueJob("mark_overdue", i)
        for i in session.scalars(
            select(Loan.id).where(Loan.status == LoanStatus.ACTIVE, Loan.due_at <= now)
        )
    ]
    jobs += [
        DueJob("escalate_overdue", i)
        for i in session.scalars(
            select(Loan.id).where(Loan.status == LoanStatus.OVERDUE, Loan.escalated_at.is_(None))
        )
    ]
    return jobs


def run(session: Session, job: DueJob, *, now: datetime) -> bool:
    return JOBS[job.name](session, job.target_id, now)


def run_due(database: Database, *, now: datetime) -> int:
    """Run every due job, each in its own short transaction; how many changed something."""
    return run_all_due(database, due, run, now=now)
