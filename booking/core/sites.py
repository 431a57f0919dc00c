"""Sites (centres): lookup and local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.core.errors import NotFound
from booking.core.models.sites import Site
from booking.lending.models.tools import Item, ItemStatus
from booking.people.models.memberships import ResidentMembership
from booking.people.models.staff import StaffAccount
from booking.spaces.models.spaces import Space


def get_site_by_slug(session: Session, slug: str) -> Site:
    site = session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise NotFound(f"no site {slug!r}")
    return site


def local_time(site: Site, moment: datetime) -> datetime:
    """``moment`` (UTC) as the wall-clock time at the site."""
    return moment.astimezone(ZoneInfo(site.timezone))


@dataclass(frozen=True)
class SiteCounts:
    """The numbers on the staff console's overview, all for one site."""

    residents: int
    staff: int
    spaces: int
    items_by_status: dict[ItemStatus, int]

    @property
    def items(self) -> int:
        return sum(self.items_by_status.values())


def count_site(session: Session, site_id: int) -> SiteCounts:
    """Count what a site has; every item status appears, zero when none are in it."""
    residents = session.scalar(
        select(func.count())
        .select_from(ResidentMembership)
        .where(ResidentMembership.site_id == site_id)
    )
    staff = session.scalar(
        select(func.count()).select_from(StaffAccount).where(StaffAccount.site_id == site_id)
    )
    spaces = session.scalar(select(func.count()).select_from(Space).where(Space.site_id == site_id))
    by_status = {status: 0 for status in ItemStatus}
    rows = session.execute(
        select(Item.status, func.count()).where(Item.site_id == site_id).group_by(Item.status)
    )
    for status, count in rows:
        by_status[status] = int(count)
    return SiteCounts(
        residents=int(residents or 0),
        staff=int(staff or 0),
        spaces=int(spaces or 0),
        items_by_status=by_status,
    )
