"""How long the records that only grow are kept, and pruning the ended sign-in sessions.

Operators set the periods (``LINLI_*_RETENTION_DAYS``, docs/operations.md); the worker's
retention job applies them every hour. Device messages and commands are pruned by
:mod:`devices.fleet.retention`; health readings have their own, per-site period
(:func:`booking.health.retention.purge_expired`).

Each prune deletes at most ``limit`` rows and returns how many it deleted, so the job can
run it in short transactions until nothing is left: a first run on a database that grew
for a year never holds the writers up for long.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from booking.core.errors import InvalidInput
from booking.people.models.resident_sessions import ResidentSession
from booking.people.models.staff_sessions import StaffSession

MIN_DAYS = 1
MAX_DAYS = 3650
BATCH = 2000


@dataclass(frozen=True)
class RetentionPeriods:
    """How long each kind of record is kept after it stops mattering."""

    # The device ledger: every applied birth, state, event and reply (audit and debugging;
    # exactly-once delivery does not depend on it, see devices.fleet.retention).
    device_messages: timedelta = timedelta(days=14)
    # Finished commands (who opened which compartment, the device's answer).
    device_commands: timedelta = timedelta(days=90)
    # Sign-in sessions of residents and staff, after they ended or were last used.
    sessions: timedelta = timedelta(days=30)
    # Deactivated residents' personal data (booking.people.erasure): a year lets someone
    # who moved back be reactivated, and staff settle what was still out.
    deactivated_residents: timedelta = timedelta(days=365)
    # Text messages sent or given up (booking.messages.retention): half a year answers "did
    # the centre tell me?" for the season; one still waiting is never pruned.
    messages: timedelta = timedelta(days=180)
    # Device messages the bridge refused, after the last time one came (the device board shows
    # them; devices.ingest.dead_letters): each differs from the next when a device's firmware
    # gets every event wrong, so they only grow. Those that may hold health data go sooner
    # when the site's health retention is shorter.
    dead_letters: timedelta = timedelta(days=90)

    @classmethod
    def from_days(cls, days: Mapping[str, object]) -> RetentionPeriods:
        """Periods from whole numbers of days by field name (missing ones keep the default).

        Raises :class:`InvalidInput` naming the field for anything but a whole number of
        days from :data:`MIN_DAYS` to :data:`MAX_DAYS`.
        """
        values = {}
        for name, value in days.items():
            if name not in cls.__dataclass_fields__:
                raise InvalidInput("unknown retention period", field=name)
            # bool is an int in Python; "true days" is nobody's intent.
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(
                    "retention period is not a whole number of days",
                    field=name,
                    value=value,
                    min=MIN_DAYS,
                    max=MAX_DAYS,
                )
            if not MIN_DAYS <= value <= MAX_DAYS:
                raise InvalidInput(
                    "retention period out of range",
                    field=name,
                    value=value,
                    min=MIN_DAYS,
                    max=MAX_DAYS,
                )
            values[name] = timedelta(days=value)
        return cls(**values)


def delete_some(
    session: Session,
    key: InstrumentedAttribute[Any],
    over: ColumnElement[bool],
    *,
    limit: int,
    oldest_first: ColumnElement[Any] | InstrumentedAttribute[Any] | None = None,
) -> int:
    """Delete up to ``limit`` rows of ``key``'s table that are ``over`` (by ``oldest_first``
    when given); how many went. The prunes' one statement: the rows chosen by key in a
    subquery, as a DELETE cannot take a LIMIT on PostgreSQL."""
    chosen = select(key).where(over).limit(limit)
    if oldest_first is not None:
        chosen = chosen.order_by(oldest_first)
    result = session.execute(
        delete(key.class_)
        .where(key.in_(chosen.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def prune_sessions(session: Session, *, before: datetime, limit: int = BATCH) -> int:
    """Delete up to ``limit`` resident and staff sessions that ended before ``before``, or
    were last used before it without being ended (a kiosk walked away from, a console tab
    closed: the idle limit ended them long ago, whether or not a request noticed).

    Nothing reads a session once it has ended (it only refuses its token), so these rows
    serve no one after the period.
    """
    deleted = 0
    for table in (ResidentSession, StaffSession):
        over = or_(
            table.ended_at < before,
            (table.ended_at.is_(None)) & (table.last_seen_at < before),
        )
        deleted += delete_some(session, table.token_hash, over, limit=limit - deleted)
        if deleted >= limit:
            break
    return deleted
