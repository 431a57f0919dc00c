"""A resident's private calendar feed (``webcal://``): made, renewed and revoked by the
resident on their phone or by staff on the resident's page; found by its secret address.

Only the address's secret opens the feed; there is no sign-in on a calendar app's poll. A
revoked or unknown secret is the same :class:`NotFound`, so an old address tells nothing.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import NotFound
from booking.people.models.calendar_feeds import CalendarFeed
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident

# secrets.token_urlsafe(32): 43 characters of the URL-safe alphabet, 256 bits.
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def live_feed(session: Session, *, resident_id: int, site_id: int) -> CalendarFeed | None:
    """The resident's feed at this centre still answering, if any."""
    return session.scalar(
        select(CalendarFeed).where(
            CalendarFeed.resident_id == resident_id,
            CalendarFeed.site_id == site_id,
            CalendarFeed.revoked_at.is_(None),
        )
    )


def _member(session: Session, *, resident_id: int, site_id: int) -> Resident:
    resident = session.scalar(
        select(Resident)
        .join(ResidentMembership)
        .where(Resident.id == resident_id, ResidentMembership.site_id == site_id)
    )
    if resident is None or not resident.is_active:
        raise NotFound("no such resident at this centre")
    return resident


def new_feed(
    session: Session, *, resident_id: int, site_id: int, actor: str, now: datetime
) -> CalendarFeed:
    """A new secret address for the resident; the one before it (if any) stops at once.
    Audited as ``actor`` without the secret."""
    _member(session, resident_id=resident_id, site_id=site_id)
    earlier = live_feed(session, resident_id=resident_id, site_id=site_id)
    if earlier is not None:
        earlier.revoke(by=actor, now=now)
    feed = CalendarFeed(
        resident_id=resident_id, site_id=site_id, token=secrets.token_urlsafe(32), created_at=now
    )
    session.add(feed)
    session.flush()
    audit.record(
        session, action="resident.calendar_feed_made", actor=actor, site_id=site_id, now=now,
        subject=f"resident:{resident_id}", detail={"renewed": earlier is not None},
    )  # fmt: skip
    return feed


def revoke_feed(
    session: Session, *, resident_id: int, site_id: int, actor: str, now: datetime,
    staff_id: int | None = None,
) -> bool:  # fmt: skip
    """Stop the resident's live address (by the resident, or by staff ``staff_id``); False
    when there was none, and nothing changes."""
    feed = live_feed(session, resident_id=resident_id, site_id=site_id)
    if feed is None:
        return False
    feed.revoke(by=actor, now=now)
    audit.record(
        session, action="resident.calendar_feed_revoked", actor=actor, staff_id=staff_id,
        site_id=site_id, now=now, subject=f"resident:{resident_id}",
    )  # fmt: skip
    return True


def feed_by_token(session: Session, *, token: str) -> CalendarFeed:
    """The live feed behind an address's secret, its resident still active;
    :class:`NotFound` for anything else (malformed, unknown, revoked, deactivated)."""
    if not TOKEN_PATTERN.match(token or ""):
        raise NotFound("no such calendar feed")
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
    if feed is None or not feed.is_live:
        raise NotFound("no such calendar feed")
    resident = session.get(Resident, feed.resident_id)
    if resident is None or not resident.is_active:
        raise NotFound("no such calendar feed")
    return feed
