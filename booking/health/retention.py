"""How long readings are kept: the retention purge by each site's period, and the other
health data held elsewhere (registered here) that goes with them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.models.sites import Site
from booking.health.models.pairings import TerminalPairing
from booking.health.models.readings import BpReading
from booking.health.operations import (
    DEFAULT_RETENTION_DAYS,
    settings_for,
)


def purge_expired(session: Session, now: datetime) -> int:
    """Delete readings older than their site's retention period; returns how many."""
    total = 0
    for site_id in session.scalars(select(Site.id)).all():
        cutoff = now - timedelta(days=settings_for(session, site_id).retention_days)
        old = select(BpReading.id).where(
            BpReading.site_id == site_id, BpReading.measured_at < cutoff
        )
        session.execute(
            update(TerminalPairing)
            .where(TerminalPairing.reading_id.in_(old))
            .values(reading_id=None)
        )
        result = session.execute(
            delete(BpReading).where(BpReading.site_id == site_id, BpReading.measured_at < cutoff)
        )
        purged = int(getattr(result, "rowcount", 0) or 0)
        others = {o.name: o.purge_before(session, site_id, cutoff) for o in OTHER_HEALTH_DATA}
        others = {name: n for name, n in others.items() if n}
        if purged or others:
            audit.record(
                session,
                action="health.readings_purged",
                actor="system:retention",
                now=now,
                site_id=site_id,
                detail={"readings": purged, "older_than": cutoff.isoformat(), **others},
            )
        total += purged
    # Held elsewhere without a site of ours (a message naming an unknown site): the default.
    default_cutoff = now - timedelta(days=DEFAULT_RETENTION_DAYS)
    for other in OTHER_HEALTH_DATA:
        other.purge_before(session, None, default_cutoff)
    return total


@dataclass(frozen=True)
class OtherHealthData:
    """Health data another part keeps outside the readings (the device side's refused
    messages): purged with them, by card on a withdrawal and by age on retention.

    ``purge_card(session, card_id)`` and ``purge_before(session, site_id or None, cutoff)``
    delete and return how many rows went.
    """

    name: str
    purge_card: Callable[[Session, str], int]
    purge_before: Callable[[Session, int | None, datetime], int]


# Registered by the parts that hold such data (booking imports none of them).
OTHER_HEALTH_DATA: list[OtherHealthData] = []


def register_other_health_data(other: OtherHealthData) -> None:
    """Let withdrawals and the retention purge reach ``other`` too (once per name)."""
    OTHER_HEALTH_DATA[:] = [o for o in OTHER_HEALTH_DATA if o.name != other.name]
    OTHER_HEALTH_DATA.append(other)
