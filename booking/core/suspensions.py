"""A suspension in force: the one question that a booking suspension (no-shows) and a
lending suspension (overdue loans) ask alike. Each capability keeps its own table, as each
is lifted and counted by its own rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

S = TypeVar("S")


def in_force(
    session: Session, model: type[S], *, site_id: int, resident_id: int, now: datetime
) -> S | None:
    """The resident's suspension of this kind in force at ``now`` (the latest-ending first).

    ``model`` is a table with ``site_id``, ``resident_id``, ``starts_at``, ``ends_at`` and
    ``lifted_at`` (``BookingSuspension``, ``LendingSuspension``); core imports neither.
    """
    table: Any = model
    return session.scalar(
        select(model)
        .where(
            table.site_id == site_id,
            table.resident_id == resident_id,
            table.starts_at <= now,
            table.ends_at > now,
            table.lifted_at.is_(None),
        )
        .order_by(table.ends_at.desc())
        .limit(1)
    )
