"""When a tool may be reserved for: a window ahead, short, within two weeks and within the
centre's opening hours, on the centre's wall clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.core.models.sites import Site
from booking.lending.errors import ReservationWindowInvalid

# How far ahead a window may start, and how long it may be.
DAYS_AHEAD = 14
LONGEST_WINDOW = timedelta(hours=12)


def check_window(site: Site, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise ReservationWindowInvalid("the window must start in the future", reason="past")
    if ends_at <= starts_at:
        raise ReservationWindowInvalid("the window must end after it starts", reason="order")
    if ends_at - starts_at > LONGEST_WINDOW:
        raise ReservationWindowInvalid("a window is at most 12 hours", reason="too_long")
    if starts_at > now + timedelta(days=DAYS_AHEAD):
        raise ReservationWindowInvalid("at most 14 days ahead", reason="too_far", days=DAYS_AHEAD)
    # The tool is collected at the centre during the window: the API took one at 03:00,
    # which the phone and the kiosk never offer (they offer windows within opening hours).
    zone = ZoneInfo(site.timezone)
    local_start, local_end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    opens = datetime.combine(local_start.date(), site.opens_at, tzinfo=zone)
    closes = datetime.combine(local_start.date(), site.closes_at, tzinfo=zone)
    if local_start < opens or local_end > closes:
        raise ReservationWindowInvalid(
            f"the centre is open {site.opens_at:%H:%M}–{site.closes_at:%H:%M}", reason="closed",
            opens_at=f"{site.opens_at:%H:%M}", closes_at=f"{site.closes_at:%H:%M}",
        )  # fmt: skip
