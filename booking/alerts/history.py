"""Resolved staff alerts, for the console's history: filtered by kind and time, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.alerts.models.alerts import AlertStatus, StaffAlert

PAGE_SIZE = 50


@dataclass(frozen=True)
class HistoryPage:
    alerts: Sequence[StaffAlert]
    total: int
    page: int
    pages: int


def resolved_alerts(
    session: Session,
    *,
    site_id: int,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> HistoryPage:
    """Resolved alerts of a site, newest resolution first; ``kind`` is a prefix ("locker.")."""
    query = select(StaffAlert).where(
        StaffAlert.site_id == site_id, StaffAlert.status == AlertStatus.RESOLVED
    )
    if kind:
        query = query.where(StaffAlert.kind.startswith(kind, autoescape=True))
    if since is not None:
        query = query.where(StaffAlert.resolved_at >= since)
    if until is not None:
        query = query.where(StaffAlert.resolved_at < until)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    found = session.scalars(
        query.order_by(StaffAlert.resolved_at.desc(), StaffAlert.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return HistoryPage(alerts=found, total=total, page=page, pages=pages)


def latest_alert_id(session: Session, *, site_id: int) -> int:
    """The highest alert id of a site: where a live feed starts."""
    return int(
        session.scalar(select(func.max(StaffAlert.id)).where(StaffAlert.site_id == site_id)) or 0
    )


def alerts_after(
    session: Session, *, site_id: int, after_id: int, limit: int = 50
) -> Sequence[StaffAlert]:
    """Alerts with an id above ``after_id`` and still unresolved, oldest first.

    Ids are handed out when a transaction inserts, not when it commits, so an alert may become
    visible after a higher id already has: a live feed asks again from a little below the
    highest id it saw and skips the ones it sent (see ``kiosk.staff.alerts.stream``).
    """
    return session.scalars(
        select(StaffAlert)
        .where(
            StaffAlert.site_id == site_id,
            StaffAlert.id > after_id,
            StaffAlert.status != AlertStatus.RESOLVED,
        )
        .order_by(StaffAlert.id)
        .limit(limit)
    ).all()


def changed_since(
    session: Session, *, site_id: int, since: datetime, limit: int = 200
) -> Sequence[StaffAlert]:
    """Alerts acknowledged or resolved at or after ``since``, oldest change first.

    New alerts come through :func:`alerts_after`; this is what an open inbox needs to move an
    alert a colleague took on, or drop one a colleague resolved.
    """
    return session.scalars(
        select(StaffAlert)
        .where(
            StaffAlert.site_id == site_id,
            StaffAlert.changed_at >= since,
            StaffAlert.status != AlertStatus.OPEN,
        )
        .order_by(StaffAlert.changed_at, StaffAlert.id)
        .limit(limit)
    ).all()


# A change committed this long after it was stamped is still found by a feed that asks again.
CHANGE_LOOKBACK = timedelta(seconds=30)
