"""A suspension in force: the one question that a booking suspension (no-shows) and a
lending suspension (overdue loans) ask alike. Each capability keeps its own table, as each
is lifted and counted by its own rules."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.models.suspensions import SuspensionPeriod

S = TypeVar("S", bound=SuspensionPeriod)


def in_force(
    session: Session, model: type[S], *, site_id: int, resident_id: int, now: datetime
) -> S | None:
    """The resident's suspension of this kind in force at ``now`` (the latest-ending first).

    ``model`` is ``BookingSuspension`` or ``LendingSuspension``; core imports neither.
    """
    return session.scalar(
        select(model)
        .where(
            model.site_id == site_id,
            model.resident_id == resident_id,
            model.starts_at <= now,
            model.ends_at > now,
            model.lifted_at.is_(None),
        )
        .order_by(model.ends_at.desc())
        .limit(1)
    )
