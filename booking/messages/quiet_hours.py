"""Quiet hours: no message is sent between a site's ``quiet_from`` and ``quiet_until``
(21:00 to 08:00 by default), in the site's local time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.core.models.sites import Site


def _is_quiet(at: time, quiet_from: time, quiet_until: time) -> bool:
    if quiet_from == quiet_until:
        return False  # no quiet hours
    if quiet_from < quiet_until:
        return quiet_from <= at < quiet_until
    return at >= quiet_from or at < quiet_until  # across midnight


def quiet_until(site: Site, now: datetime) -> datetime | None:
    """When the quiet hours around ``now`` end, or None when ``now`` is not in them."""
    local = now.astimezone(ZoneInfo(site.timezone))
    if not _is_quiet(local.time(), site.quiet_from, site.quiet_until):
        return None
    end = datetime.combine(local.date(), site.quiet_until, tzinfo=local.tzinfo)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(now.tzinfo)
