"""Messages for residents, read at the kiosk, and sent by SMS to those who want them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts.models.notifications import Notification, NotificationKind
from booking.core.errors import NotFound


def notify(
    session: Session,
    *,
    resident_id: int,
    site_id: int,
    kind: NotificationKind,
    now: datetime,
    booking_id: int | None = None,
    closure_id: int | None = None,
    detail: str = "",
) -> Notification:
    notification = Notification(
        resident_id=resident_id,
        site_id=site_id,
        kind=kind,
        booking_id=booking_id,
        closure_id=closure_id,
        detail=detail,
        created_at=now,
    )
    session.add(notification)
    # Imported here: the messages capability reads the notices' models (a module cycle).
    from booking.messages import notices

    notices.from_notice(session, notification)
    return notification


def notifications_of(
    session: Session, *, resident_id: int, site_id: int, unread_only: bool = False
) -> list[Notification]:
    stmt = select(Notification).where(
        Notification.resident_id == resident_id, Notification.site_id == site_id
    )
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.scalars(stmt.order_by(Notification.created_at.desc(), Notification.id)))


def mark_read(session: Session, *, resident_id: int, notification_id: int, now: datetime) -> None:
    notification = session.get(Notification, notification_id)
    if notification is None or notification.resident_id != resident_id:
        raise NotFound("no such notification")
    if notification.read_at is None:
        notification.read_at = now
