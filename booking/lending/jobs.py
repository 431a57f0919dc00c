"""Scheduled lending jobs: plain, idempotent functions of ids and times.

The worker runs :func:`run_due` every minute. Each job re-reads its row and does nothing
unless its moment has come and the row is still in the state it expects, so running a job
twice, late, or after someone changed the row is harmless. Overdue loans are marked by the
same job (at most a minute late, rather than "daily at midnight" with a missed day when the
worker was down at midnight).

A door session's clocks (the hold, the wait for its compartment, the door not opened in
time) are :func:`booking.lending.door_session.check_clocks`, run here and by the kiosk's poll alike;
what its open command did is settled by ``devices.locker.opening``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from booking.core.db import Database
from booking.core.due_jobs import DueJob, run_all_due
from booking.core.models.sends import ScheduledSend
from booking.lending import door_session, loan_messages
from booking.lending import overdue as lending_overdue
from booking.lending import policy as lending_policy
from booking.lending.models.door_sessions import DoorSession, DoorSessionState
from booking.lending.models.loans import Loan, LoanStatus

SYSTEM_ACTOR = "system:lending_jobs"
# The borrower is reminded a day before a loan is due.
DUE_SOON = timedelta(days=1)


def check_door_clocks(session: Session, target_id: int, now: datetime) -> bool:
    """A pickup or return whose hold, wait or door clock ran out is released."""
    door = session.get(DoorSession, target_id, with_for_update=True)
    if door is None or door.state.is_final:
        return False
    return door_session.check_clocks(session, door, now, actor=SYSTEM_ACTOR)


def mark_overdue(session: Session, target_id: int, now: datetime) -> bool:
    loan = session.get(Loan, target_id, with_for_update=True)
    if loan is None or loan.status is not LoanStatus.ACTIVE or loan.due_at > now:
        return False
    lending_overdue.mark_overdue(
        session, loan, now, lending_policy.policy_for(session, loan.site_id)
    )
    return True


def escalate_overdue(session: Session, target_id: int, now: datetime) -> bool:
    loan = session.get(Loan, target_id, with_for_update=True)
    if loan is None:
        return False
    return lending_overdue.escalate(
        session, loan, now, lending_policy.policy_for(session, loan.site_id)
    )


def remind_due_tomorrow(session: Session, target_id: int, now: datetime) -> bool:
    loan = session.get(Loan, target_id, with_for_update=True)
    if loan is None or loan.status is not LoanStatus.ACTIVE or loan.due_at - DUE_SOON > now:
        return False
    # A loan of a day or less was lent knowing when it is due: it is claimed without a
    # message, so that the job stops finding it.
    return loan_messages.due_tomorrow(
        session, loan, now, message=loan.due_at - loan.started_at > DUE_SOON
    )


JOBS: Mapping[str, Callable[[Session, int, datetime], bool]] = {
    "check_door_clocks": check_door_clocks,
    "mark_overdue": mark_overdue,
    "escalate_overdue": escalate_overdue,
    "remind_due_tomorrow": remind_due_tomorrow,
}


def due(session: Session, *, now: datetime) -> list[DueJob]:
    """The jobs that may have something to do at ``now`` (each re-checks for itself)."""
    jobs = [
        DueJob("check_door_clocks", i)
        for i in session.scalars(
            select(DoorSession.id).where(
                (
                    DoorSession.state.in_((DoorSessionState.RESERVED, DoorSessionState.WAITING))
                    & (DoorSession.expires_at <= now)
                )
                | (
                    (DoorSession.state == DoorSessionState.OPENING)
                    & DoorSession.unlocked_at.is_not(None)
                )
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
    reminded = select(ScheduledSend.key).where(ScheduledSend.kind == loan_messages.DUE_TOMORROW)
    jobs += [
        DueJob("remind_due_tomorrow", i)
        for i in session.scalars(
            select(Loan.id).where(
                Loan.status == LoanStatus.ACTIVE,
                Loan.due_at <= now + DUE_SOON,
                Loan.due_at > now,
                ("loan:" + cast(Loan.id, String)).not_in(reminded),
            )
        )
    ]
    return jobs


def run(session: Session, job: DueJob, *, now: datetime) -> bool:
    return JOBS[job.name](session, job.target_id, now)


def run_due(database: Database, *, now: datetime) -> int:
    """Run every due job, each in its own short transaction; how many changed something."""
    return run_all_due(database, due, run, now=now)
