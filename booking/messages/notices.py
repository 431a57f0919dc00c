"""Every kiosk notice also goes out by SMS: the template parameters of each notice kind.

Called by ``booking.alerts.notifications.notify`` in the notice's own transaction. A kind
without parameters here (a notice kind added later) is sent with the generic template.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from booking.alerts.models.notifications import Notification, NotificationKind
from booking.core.models.sites import Site
from booking.messages import outbox
from booking.people.models.residents import Resident
from booking.spaces.models.bookings import Booking
from booking.spaces.models.spaces import Space

# Provider templates limit a parameter's length; a staff reason is cut to this.
REASON_LENGTH = 20
TOOL_KINDS = frozenset(
    {
        NotificationKind.TOOL_RESERVATION_READY,
        NotificationKind.TOOL_QUEUE_READY,
        NotificationKind.TOOL_NO_SHOW,
    }
)


def local_text(at: datetime, site: Site, with_date: bool = True) -> str:
    """A moment as a resident reads it in a message: 12-05 14:30, the site's local time."""
    local = at.astimezone(ZoneInfo(site.timezone))
    return local.strftime("%m-%d %H:%M" if with_date else "%H:%M")


def _params(session: Session, notice: Notification, zh: bool) -> list[str]:
    site = session.get_one(Site, notice.site_id)
    if notice.kind is NotificationKind.SUSPENDED:
        return [local_text(datetime.fromisoformat(notice.detail), site)] if notice.detail else []
    if notice.kind is NotificationKind.WAITLIST_ENDED:
        names = notice.detail.split("\n")
        return [names[0] if zh or len(names) < 2 else names[1]]
    if notice.kind in TOOL_KINDS:
        # The lending jobs write "中文名\nEnglish name" and, for a hold, when it ends.
        parts = notice.detail.split("\n")
        if len(parts) < 2:
            return []
        params = [parts[0] if zh else parts[1]]
        if notice.kind is not NotificationKind.TOOL_NO_SHOW and len(parts) > 2:
            params.append(local_text(datetime.fromisoformat(parts[2]), site))
        return params
    if notice.booking_id is None:
        return []
    booking = session.get_one(Booking, notice.booking_id)
    space = session.get_one(Space, booking.space_id)
    params = [space.name_zh if zh else space.name_en, local_text(booking.starts_at, site)]
    if notice.kind in (NotificationKind.BOOKING_REJECTED, NotificationKind.CLOSURE):
        params.append(notice.detail[:REASON_LENGTH])
    if notice.kind is NotificationKind.WAITLIST_OFFER and booking.hold_expires_at is not None:
        params.append(local_text(booking.hold_expires_at, site))
    return params


def from_notice(session: Session, notice: Notification) -> None:
    """Put the SMS of a kiosk notice in the outbox (when the resident wants it)."""
    resident = session.get(Resident, notice.resident_id)
    if resident is None:
        return
    session.flush()  # the notice's id, for the message's link to it
    outbox.enqueue(
        session,
        site_id=notice.site_id,
        resident_id=notice.resident_id,
        kind=notice.kind.value,
        params=_params(session, notice, resident.preferred_language.startswith("zh")),
        now=notice.created_at,
        notification_id=notice.id,
    )
