"""How the worker runs an area's scheduled jobs (bookings, lending): a job is a name and a
row's id; the area says which jobs may be due and how to run one; this runs them all, each
in its own short transaction, so no job keeps another's rows locked while it works."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from booking.core.db import Database


@dataclass(frozen=True)
class DueJob:
    name: str
    target_id: int


class FindDue(Protocol):
    def __call__(self, session: Session, *, now: datetime) -> list[DueJob]: ...


class RunOne(Protocol):
    def __call__(self, session: Session, job: DueJob, *, now: datetime) -> bool: ...


def run_all_due(database: Database, due: FindDue, run: RunOne, *, now: datetime) -> int:
    """Run every due job, each in its own short transaction; how many changed something."""
    with database.read() as session:
        jobs = due(session, now=now)
    changed = 0
    for job in jobs:
        with database.write() as session:
            changed += run(session, job, now=now)
    return changed
