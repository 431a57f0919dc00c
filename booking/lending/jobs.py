"""Scheduled lending jobs: plain, idempotent functions of ids and times.

The worker runs :func:`run_due` every minute. Each job re-reads its row and does nothing
unless its moment has come and the row is still in the state it expects, so running a job
twice, late, or after someone changed the row is harmless. Overdue loans are marked by the
same job (at most a minute late, rather than "daily at midnight" with a missed day when the
worker was down at midnight).

A door session's clocks (the hold, the wait for its compartment, the door not opened in
time) are :func:`booking.lending.door_session.check_clocks`, run here and by the kiosk's poll alike;
what its open command did is settled by ``devices.locker.opening``.

Reservations: a tool type with a claim waiting (a window begun, a queue place) gets its free
items held, first claim first (``serve_claims``); a held reservation whose pickup ended is
settled (``settle_reservation``: collected, a no-show, or waiting again); a window that
ended with nothing held lapses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core.db import Database
from booking.core.due_jobs import DueJob, run_all_due
from booking.core.models.sends import ScheduledSend
from booking.lending import door_session, holds, loan_messages
from booking.lending import overdue as lending_overdue
from booking.lending import policy as lending_policy
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.reservations import ReservationStatus, ToolReservation
from booking.lending.models.tool_types import ToolType
from booking.spaces import strikes
from booking.spaces.rules import STUDY_DEFAULTS as SEAT_RULES

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


def serve_claims(session: Session, target_id: int, now: datetime) -> bool:
    """Free items of the tool type ``target_id`` are held for its claims, in their order."""
    return holds.serve(session, tool_type_id=target_id, now=now) > 0


def settle_reservation(session: Session, target_id: int, now: datetime) -> bool:
    """A held reservation whose pickup has ended: collected when the tool was taken; a
    no-show when its hold ran out (a strike, if the policy's rule says so); otherwise
    (the door not opened in time, the item sent to maintenance) it waits again in its place."""
    reservation = session.get(ToolReservation, target_id, with_for_update=True)
    if reservation is None or reservation.status is not ReservationStatus.HELD:
        return False
    assert reservation.door_session_id is not None  # a held reservation has its pickup
    door = session.get_one(DoorSession, reservation.door_session_id)
    if door.loan_id is not None:
        reservation.collected(door.loan_id, now)
        return True
    if not door.state.is_final:
        return False
    if door.release_reason is not ReleaseReason.HOLD_EXPIRED:
        reservation.hold_lost()
        return True
    reservation.no_show(now)
    tool_type = session.get_one(ToolType, reservation.tool_type_id)
    notice = strikes.Notice(
        kind=NotificationKind.TOOL_NO_SHOW, detail=f"{tool_type.name_zh}\n{tool_type.name_en}"
    )
    if lending_policy.policy_for(session, reservation.site_id).no_show_strikes:
        strikes.give_reservation_strike(
            session, site_id=reservation.site_id, resident_id=reservation.resident_id,
            tool_reservation_id=reservation.id, notice=notice, now=now,
            # By the seat rules' default counts: the same three strikes, the same week.
            strikes_to_suspend=SEAT_RULES.strikes_to_suspend,
            window=timedelta(days=SEAT_RULES.strike_window_days),
            suspension=timedelta(days=SEAT_RULES.suspension_days),
        )  # fmt: skip
    else:
        notifications.notify(
            session, resident_id=reservation.resident_id, site_id=reservation.site_id,
            kind=notice.kind, now=now, detail=notice.detail,
        )  # fmt: skip
    return True


def lapse_reservation(session: Session, target_id: int, now: datetime) -> bool:
    reservation = session.get(ToolReservation, target_id, with_for_update=True)
    if (
        reservation is None
        or reservation.status is not ReservationStatus.WAITING
        or reservation.window_ends_at is None
        or reservation.window_ends_at > now
    ):
        return False
    reservation.lapse(now)
    return True


JOBS: Mapping[str, Callable[[Session, int, datetime], bool]] = {
    "check_door_clocks": check_door_clocks,
    "mark_overdue": mark_overdue,
    "escalate_overdue": escalate_overdue,
    "remind_due_tomorrow": remind_due_tomorrow,
    "settle_reservation": settle_reservation,
    "lapse_reservation": lapse_reservation,
    "serve_claims": serve_claims,
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
    # Settled first, so that an item a no-show gave back is held for the next claim at once.
    jobs += [
        DueJob("settle_reservation", i)
        for i in session.scalars(
            select(ToolReservation.id)
            .join(DoorSession, DoorSession.id == ToolReservation.door_session_id)
            .where(
                ToolReservation.status == ReservationStatus.HELD,
                DoorSession.loan_id.is_not(None)
                | DoorSession.state.in_((DoorSessionState.COMPLETED, DoorSessionState.RELEASED)),
            )
        )
    ]
    jobs += [
        DueJob("lapse_reservation", i)
        for i in session.scalars(
            select(ToolReservation.id).where(
                ToolReservation.status == ReservationStatus.WAITING,
                ToolReservation.window_ends_at <= now,
            )
        )
    ]
    jobs += [DueJob("serve_claims", i) for i in holds.tool_types_with_claims(session, now=now)]
    return jobs


def run(session: Session, job: DueJob, *, now: datetime) -> bool:
    return JOBS[job.name](session, job.target_id, now)


def run_due(database: Database, *, now: datetime) -> int:
    """Run every due job, each in its own short transaction; how many changed something."""
    return run_all_due(database, due, run, now=now)
