"""The days, start times and lengths a resident may pick at the kiosk, on the site's wall clock.

The choices offered are exactly those the booking rules accept (grid, opening hours, how far
ahead, longest booking), so a resident tapping through the screen meets a rule only when
someone else was quicker. Parsing is strict: a value that is not one of the shapes we send
is bad input, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from booking.core.errors import InvalidInput
from booking.core.models.sites import Site
from booking.spaces import rules as booking_rules
from booking.spaces.models.spaces import Space
from booking.spaces.rules import Rules
from kiosk.form_dates import in_this_century

T = TypeVar("T")

DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIME_PATTERN = re.compile(r"^\d{2}:\d{2}$")
MINUTES_PATTERN = re.compile(r"^\d{1,4}$")

# What the screen offers before the resident picks: a useful stretch without scrolling.
DEFAULT_SEAT_MINUTES = 120
DEFAULT_ROOM_MINUTES = 60


@dataclass(frozen=True)
class Choice:
    """A day, start and length, with every alternative the screen offers beside them."""

    days: list[date]
    day: date
    starts: list[time]
    start: time | None  # None when nothing on that day can still be booked
    lengths: list[int]
    minutes: int
    starts_at: datetime | None
    ends_at: datetime | None

    @property
    def bookable(self) -> bool:
        return self.starts_at is not None


def parse_day(text: str) -> date:
    if not DAY_PATTERN.match(text):
        raise InvalidInput("a day is YYYY-MM-DD", field="day")
    try:
        day = date.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput("no such day", field="day") from error
    # Year 1 overflowed when its opening time was moved to UTC (a 500 on the phone's booking
    # forms); no day the screens offer is outside this century.
    if not in_this_century(day):
        raise InvalidInput("no such day", field="day")
    return day


def parse_time(text: str) -> time:
    if not TIME_PATTERN.match(text):
        raise InvalidInput("a time is HH:MM", field="start")
    try:
        return time.fromisoformat(text)
    except ValueError as error:
        raise InvalidInput("no such time", field="start") from error


def parse_minutes(text: str) -> int:
    if not MINUTES_PATTERN.match(text) or int(text) < 1:
        raise InvalidInput("a length is a whole number of minutes", field="minutes")
    return int(text)


def bookable_days(site: Site, rules: Rules, now: datetime) -> list[date]:
    today = booking_rules.local_date(site, now)
    return [today + timedelta(days=n) for n in range(rules.bookable_days)]


def start_times(site: Site, space: Space, rules: Rules, day: date, now: datetime) -> list[time]:
    """Grid times on ``day`` from opening until the last slot, none already over."""
    opens, closes = booking_rules.opening_hours(site, space)
    moment = booking_rules.at_local(site, day, opens)
    closing = booking_rules.at_local(site, day, closes)
    # The slot under way is still offered: booking rules allow it (a planned "sit down now").
    earliest = booking_rules.floor_to_grid(site, rules, now)
    starts = []
    while moment + rules.grid <= closing:
        if moment >= earliest:
            starts.append(moment.astimezone(booking_rules.zone(site)).time())
        moment += rules.grid
    return starts


def lengths(site: Site, space: Space, rules: Rules, day: date, start: time) -> list[int]:
    """Lengths in minutes, on the grid, up to the longest booking and the closing time."""
    _, closes = booking_rules.opening_hours(site, space)
    room = booking_rules.at_local(site, day, closes) - booking_rules.at_local(site, day, start)
    longest = min(rules.max_booking_minutes, int(room.total_seconds() // 60))
    return list(range(rules.grid_minutes, longest + 1, rules.grid_minutes))


def choose(
    site: Site,
    space: Space,
    rules: Rules,
    now: datetime,
    *,
    day_text: str = "",
    start_text: str = "",
    minutes_text: str = "",
    default_minutes: int = DEFAULT_SEAT_MINUTES,
) -> Choice:
    """What the screen shows for the asked day/start/length, or the nearest sensible one.

    Used for pages (GET): an asked value that is not on offer (stale link, tomorrow became
    today) falls back to the first that is, because showing a page is never harmful. A
    booking (POST) goes through :func:`period_from_form` instead.
    """
    days = bookable_days(site, rules, now)
    day = _or_none(parse_day, day_text)
    if day not in days:
        day = days[0]
    starts = start_times(site, space, rules, day, now)
    if not starts and day == days[0] and len(days) > 1:
        # Today is over: tomorrow is the first day that can still be booked.
        day = days[1]
        starts = start_times(site, space, rules, day, now)
    start = _or_none(parse_time, start_text)
    if start not in starts:
        start = starts[0] if starts else None
    if start is None:
        return Choice(days, day, starts, None, [], 0, None, None)
    offered = lengths(site, space, rules, day, start)
    minutes = _or_none(parse_minutes, minutes_text)
    if minutes not in offered:
        shorter = [m for m in offered if m <= default_minutes]
        minutes = shorter[-1] if shorter else offered[0]
    starts_at = booking_rules.at_local(site, day, start)
    return Choice(
        days,
        day,
        starts,
        start,
        offered,
        minutes,
        starts_at,
        starts_at + timedelta(minutes=minutes),
    )


def period_from_form(
    site: Site, day_text: str, start_text: str, minutes_text: str
) -> tuple[datetime, datetime]:
    """The UTC period a booking form asks for; whether it is allowed is the domain's to say."""
    day = parse_day(day_text)
    start = parse_time(start_text)
    minutes = parse_minutes(minutes_text)
    starts_at = booking_rules.at_local(site, day, start)
    return starts_at, starts_at + timedelta(minutes=minutes)


def _or_none(parse: Callable[[str], T], text: str) -> T | None:
    try:
        return parse(text)
    except InvalidInput:
        return None
