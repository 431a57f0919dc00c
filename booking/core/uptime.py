"""Whether residents could use the kiosk: the evidence that lets catch-up jobs be fair.

The kiosk is usable only while every part of it works: the web and the database (a kiosk
screen reaching them beats as :attr:`ServicePart.KIOSK`, about once a minute) and the worker
(its scheduler beats as :attr:`ServicePart.WORKER` every minute, and once at start, before it
runs any catch-up job). A gap longer than ``MAX_GAP`` between two beats of a part is recorded
as an :class:`Outage` of that part; so is an interval in which the web saw the database fail
(:func:`record_outage`), however short.

A rule that would punish a resident for not using the kiosk (a no-show strike, releasing a
seat after a temporary leave) first asks :func:`was_up` for the whole period the resident had
to act in; if the server cannot show every part was up throughout, the resident gets the
benefit of the doubt.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.models.outages import Outage
from booking.core.models.uptime import Heartbeat, ServicePart

HEARTBEAT_EVERY = timedelta(minutes=1)
MAX_GAP = timedelta(minutes=3)
# The parts that beat, each needed for the kiosk to be usable.
BEATING_PARTS = (ServicePart.WORKER, ServicePart.KIOSK)


def record_heartbeat(
    session: Session,
    *,
    site_id: int,
    now: datetime,
    part: ServicePart = ServicePart.WORKER,
    max_gap: timedelta = MAX_GAP,
) -> Outage | None:
    """Note that ``part`` is alive at ``site_id``; return the outage this beat ends, if any."""
    ended = record_heartbeats(session, site_ids=(site_id,), now=now, part=part, max_gap=max_gap)
    return ended[0] if ended else None


def record_heartbeats(
    session: Session,
    *,
    site_ids: Iterable[int],
    now: datetime,
    part: ServicePart = ServicePart.WORKER,
    max_gap: timedelta = MAX_GAP,
) -> list[Outage]:
    """:func:`record_heartbeat` at every one of ``site_ids``; the outages the beats end.

    The beats are read in one statement, locked in site order, and written in one: the
    worker beats for every centre of the deployment each minute, and a read and a write a
    centre were two hundred statements a minute for a district of a hundred, with the
    interpreter lock the worker's bridges need taken for each (docs/benchmarks.md,
    thirteenth session)."""
    wanted = sorted(set(site_ids))
    beats = {
        beat.site_id: beat
        for beat in session.scalars(
            select(Heartbeat)
            .where(Heartbeat.part == part, Heartbeat.site_id.in_(wanted))
            .order_by(Heartbeat.site_id)
            .with_for_update()
            .execution_options(populate_existing=True)  # as read under the lock
        )
    }
    ended = []
    for site_id in wanted:
        beat = beats.get(site_id)
        if beat is None:
            session.add(Heartbeat(site_id=site_id, part=part, first_seen_at=now, last_seen_at=now))
            continue
        if now - beat.last_seen_at > max_gap:
            outage = Outage(site_id=site_id, part=part, started_at=beat.last_seen_at, ended_at=now)
            session.add(outage)
            ended.append(outage)
        if now > beat.last_seen_at:
            beat.last_seen_at = now
    session.flush()
    return ended


def record_outage(
    session: Session,
    *,
    site_id: int,
    part: ServicePart,
    started_at: datetime,
    ended_at: datetime,
) -> Outage:
    """Note an interval in which ``part`` was seen failing (the web saw the database fail)."""
    outage = Outage(site_id=site_id, part=part, started_at=started_at, ended_at=ended_at)
    session.add(outage)
    session.flush()
    return outage


def was_up(
    session: Session,
    *,
    site_id: int,
    starts_at: datetime,
    ends_at: datetime,
    max_gap: timedelta = MAX_GAP,
    parts: Iterable[ServicePart] = BEATING_PARTS,
) -> bool:
    """True only if every part's heartbeats show it alive from ``starts_at`` to ``ends_at``.

    For any part: no heartbeat at all, a first heartbeat after the period began, or a last
    heartbeat before the period ended (it is down right now and has not yet recorded the
    gap): not up. An outage of any part (the database's too) overlapping the period: not up.
    """
    for part in parts:
        beat = session.get(Heartbeat, (site_id, part))
        if beat is None or beat.first_seen_at > starts_at or beat.last_seen_at < ends_at - max_gap:
            return False
    first_outage = session.scalar(
        select(Outage.id)
        .where(Outage.site_id == site_id, Outage.started_at < ends_at, Outage.ended_at > starts_at)
        .limit(1)
    )
    return first_outage is None
