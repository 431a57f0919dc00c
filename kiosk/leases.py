"""A lease row in the database, so that an SQLite deployment runs exactly one worker.

On PostgreSQL several workers may run and the scheduler goes with an advisory lock
(:mod:`kiosk.scheduler_lock`): a lease moves only when it expires, which took 47–53 s, where
a lock is freed with its holder's connection. The lease was first kept for both backends
because (and these still hold for SQLite, and shaped the lock's watchdog):
- SQLite, the default database, has no advisory locks, and one mechanism on both backends is
  one thing to test and to explain;
- an advisory lock belongs to one open connection: when PostgreSQL restarts or a pooled
  connection is recycled, the lock goes silently and a second worker may take it while the
  first still runs its jobs. A lease expires at a time the holder renews and checks, so a
  worker that lost it knows and stops;
- an operator can read who holds the lease and until when with one SELECT, and clear a dead
  holder's row, where a lock shows only as a number in ``pg_locks``.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.models import WorkerLease

WORKER_LEASE = "worker"


def new_holder_id() -> str:
    """Who we are, readable in the table by an operator: host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseHeld:
    holder: str
    expires_at: datetime


def try_acquire(
    session: Session, *, name: str, holder: str, now: datetime, ttl: timedelta
) -> LeaseHeld | None:
    """Take or renew the lease; None on success, else who holds it and until when.

    One conditional UPDATE, then an INSERT that the primary key makes fail for all but one
    contender, so two workers starting at the same moment cannot both win on either backend.
    """
    renewed = session.execute(
        update(WorkerLease)
        .where(WorkerLease.name == name, WorkerLease.holder == holder)
        .values(expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if renewed.rowcount == 1:  # type: ignore[attr-defined]
        return None
    taken_over = session.execute(
        update(WorkerLease)
        .where(WorkerLease.name == name, WorkerLease.expires_at < now)
        .values(holder=holder, acquired_at=now, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    if taken_over.rowcount == 1:  # type: ignore[attr-defined]
        return None
    current = session.scalar(select(WorkerLease).where(WorkerLease.name == name))
    if current is not None:
        return LeaseHeld(current.holder, current.expires_at)
    try:
        with session.begin_nested():
            session.add(
                WorkerLease(name=name, holder=holder, acquired_at=now, expires_at=now + ttl)
            )
    except IntegrityError:
        current = session.scalar(select(WorkerLease).where(WorkerLease.name == name))
        if current is None:  # taken and released between our two statements; try again later
            return LeaseHeld("unknown", now)
        return LeaseHeld(current.holder, current.expires_at)
    return None


def release(session: Session, *, name: str, holder: str) -> None:
    """Give the lease up at a clean stop, so the next worker need not wait for it to expire."""
    session.execute(
        delete(WorkerLease).where(WorkerLease.name == name, WorkerLease.holder == holder)
    )
