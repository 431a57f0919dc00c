"""Once-only sends for scheduled jobs: a unique row in the database decides who sends.

Only the worker holding the lease (SQLite) or the scheduler lock (PostgreSQL) runs the
scheduler, but a worker that lost it (a long pause, a database hiccup) may run one more round
before it notices, alongside its successor. Each job already re-reads its rows, so on SQLite
(one writer at a time) the second round finds the message sent; on PostgreSQL both rounds may
read "not sent yet" at once.
:func:`claim` inserts the :class:`~booking.core.models.sends.ScheduledSend` row first, in the sending
transaction: the second insert waits for the first transaction and then fails on the unique
constraint, so exactly one of them sends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.core.models.sends import ScheduledSend

BOOKING_REMINDER = "booking.reminder"


def claim(session: Session, *, site_id: int, kind: str, key: str, now: datetime) -> bool:
    """Take the right to send ``kind`` about ``key``; False if it was (or is being) sent.

    Call it before sending, in the same transaction: if that transaction rolls back, the
    claim goes with it and a later run sends.
    """
    if session.scalar(
        select(ScheduledSend.id).where(ScheduledSend.kind == kind, ScheduledSend.key == key)
    ):
        return False
    try:
        # A savepoint, so that losing the race leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(ScheduledSend(site_id=site_id, kind=kind, key=key, sent_at=now))
    except IntegrityError:
        return False
    return True


def was_sent(session: Session, *, kind: str, key: str) -> bool:
    return (
        session.scalar(
            select(ScheduledSend.id).where(ScheduledSend.kind == kind, ScheduledSend.key == key)
        )
        is not None
    )
