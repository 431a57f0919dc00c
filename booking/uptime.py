"""Whether the service was up: the evidence that lets catch-up jobs be fair.

The worker calls :func:`record_heartbeat` for every site once a minute (and once at start,
before it runs any catch-up job). A gap longer than ``MAX_GAP`` between two heartbeats is
recorded as an :class:`Outage`. A rule that would punish a resident for not using the kiosk
(a no-show strike, releasing a seat after a temporary leave) first asks :func:`was_up` for the
whole period the resident had to act in; if the server cannot show it was up throughout,
the resident gets the benefit of the doubt.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.models import Heartbeat, Outage

HEARTBEAT_EVERY = timedelta(minutes=1)
MAX_GAP = timedelta(minutes=3)


def record_heartbeat(
    session: Session, *, site_id: int, now: datetime, max_gap: timedelta = MAX_GAP
) -> Outage | None:
    """Note that the service is alive at ``site_id``; return the outage this beat ends, if any."""
    beat = session.get(Heartbeat, site_id, with_for_update=True)
    if beat is None:
        session.add(Heartbeat(site_id=site_id, first_seen_at=now, last_seen_at=now))
        session.flush()
        return None
    outage = None
    if now - beat.last_seen_at > max_gap:
        outage = Outage(site_id=site_id, started_at=beat.last_seen_at, ended_at=now)
        session.add(outage)
    if now > beat.last_seen_at:
        beat.last_seen_at = now
    session.flush()
    return outage


def was_up(
    session: Session,
    *,
    site_id: int,
    starts_at: datetime,
    ends_at: datetime,
    max_gap: timedelta = MAX_GAP,
) -> bool:
    """True only if heartbeats show the service alive from ``starts_at`` to ``ends_at``.

    No heartbeat at all, a first heartbeat after the period began, a last heartbeat before the period ended (the server is down right
    now and has not yet recorded the gap) or a recorded outage overlapping it: not up.
    """
    beat = session.get(Heartbeat, site_id)
    if beat is None or beat.first_seen_at > starts_at or beat.last_seen_at < ends_at - max_gap:
        return False
    first_outage = session.scalar(
        select(Outage.id)
        .where(Outage.site_id == site_id, Outage.started_at < ends_at, Outage.ended_at > starts_at)
        .limit(1)
    )
    return first_outage is None
