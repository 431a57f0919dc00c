"""Sites (centres): creation, lookup and local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from booking.core.driver_sql import DriverStatement
from booking.core.errors import Conflict, InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.lending.models.tools import Item, ItemStatus
from booking.people.models.memberships import ResidentMembership
from booking.people.models.staff import StaffAccount
from booking.spaces.models.spaces import Space

# The slug is a level of every MQTT topic of the site's devices (linli/v1/{site}/…) and of
# device client ids, so it may hold nothing MQTT gives a meaning to ("/", "+", "#", "$").
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
MAX_NAME_LENGTH = 100
MAX_ADDRESS_LENGTH = 200
DEFAULT_HOURS = (time(8, 0), time(21, 0))


def _text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} must be at most {limit} characters", field=field)
    return value


def check_timezone(name: str) -> str:
    """An IANA zone name (Asia/Shanghai); the site's local time, opening hours and reports
    follow it."""
    name = (name or "").strip()
    # ZoneInfo also opens files by relative path: only names of the tz database are zones.
    if name not in available_timezones():
        raise InvalidInput(f"unknown timezone {name!r} (e.g. Asia/Shanghai)", field="timezone")
    return name


def create_site(
    session: Session,
    *,
    slug: str,
    name_zh: str,
    name_en: str,
    address: str = "",
    timezone: str = "Asia/Shanghai",
) -> Site:
    """A new, empty centre: no rooms, tools, devices, residents or staff yet. Opening hours
    start at 08:00–21:00 and everything else is set up in the console."""
    slug = (slug or "").strip()
    if not SLUG_PATTERN.match(slug):
        raise InvalidInput(
            "slug must be 2-40 of a-z, 0-9 and '-', starting with a letter (e.g. yongsheng)",
            field="slug",
        )
    site = Site(
        slug=slug,
        name_zh=_text(name_zh, field="name_zh", limit=MAX_NAME_LENGTH),
        name_en=_text(name_en, field="name_en", limit=MAX_NAME_LENGTH),
        address=_text(address, field="address", limit=MAX_ADDRESS_LENGTH, required=False),
        timezone=check_timezone(timezone),
        opens_at=DEFAULT_HOURS[0],
        closes_at=DEFAULT_HOURS[1],
    )
    if session.scalar(select(Site.id).where(Site.slug == slug)) is not None:
        raise Conflict(f"site {slug!r} already exists", field="slug")
    session.add(site)
    session.flush()
    return site


def all_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.slug)))


def get_site_by_slug(session: Session, slug: str) -> Site:
    site = session.scalar(select(Site).where(Site.slug == slug))
    if site is None:
        raise NotFound(f"no site {slug!r}")
    return site


# A kiosk's every request reads its own site (it may have been renamed, or not set up yet):
# as plain columns on the driver's cursor, built once, since the ORM's query was most of a
# signed-out kiosk request's own work (statement cache key, session, loading; pyinstrument,
# docs/benchmarks.md).
_SITE_BY_SLUG = DriverStatement(
    select(Site.id, Site.slug, Site.name_zh, Site.name_en, Site.timezone).where(
        Site.slug == bindparam("slug")
    )
)


def site_names_by_slug(connection: Connection, slug: str) -> tuple[int, str, str, str, str]:
    """(id, slug, Chinese name, English name, timezone) of the site ``slug``."""
    rows = _SITE_BY_SLUG.rows(connection, {"slug": slug})
    if not rows:
        raise NotFound(f"no site {slug!r}")
    site_id, found_slug, name_zh, name_en, timezone = rows[0]
    return site_id, found_slug, name_zh, name_en, timezone


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
