"""Local calendar time for the insights: a site's date range, its weeks, and the SQL that
turns stored UTC instants into the site's wall-clock hour, weekday and week.

Neither database offers one portable "convert to zone X" function (SQLite has no zones at
all), so a query works in epoch seconds and adds the zone's UTC offset as a CASE over the
offset changes inside the range, found here in Python: exact for any zone, a single
constant for Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, case, cast, extract, func, literal
from sqlalchemy.orm import InstrumentedAttribute, Session

from booking.core.errors import InvalidInput, NotFound
from booking.core.models.sites import Site

MAX_RANGE_DAYS = 366
SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86400
# 1970-01-01 was a Thursday: day number + 3 makes Monday 0, as date.weekday() does.
EPOCH_WEEKDAY_SHIFT = 3
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class DateRange:
    """Local calendar days ``first`` to ``last``, both included."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InvalidInput("the range ends before it starts", field="to")
        if self.days > MAX_RANGE_DAYS:
            raise InvalidInput(
                f"the range is longer than {MAX_RANGE_DAYS} days", field="to", max=MAX_RANGE_DAYS
            )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @classmethod
    def recent_weeks(cls, today: date, weeks: int) -> DateRange:
        """This week so far and the ``weeks - 1`` whole weeks before it, so weekly charts
        start on a Monday."""
        return cls(week_of(today) - timedelta(days=7 * (weeks - 1)), today)

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def weeks(self) -> list[date]:
        """The Monday of every week the range touches, in order."""
        monday = week_of(self.first)
        mondays = []
        while monday <= self.last:
            mondays.append(monday)
            monday += timedelta(days=7)
        return mondays

    def utc_bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The UTC instants where the range starts and (exclusively) ends at the site."""
        start = datetime.combine(self.first, time(0), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def week_of(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def site_zone(session: Session, site_id: int) -> ZoneInfo:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site {site_id}")
    return ZoneInfo(site.timezone)


def epoch_seconds(
    session: Session, moment: ColumnElement[datetime] | InstrumentedAttribute[datetime]
) -> ColumnElement[int]:
    """A UTC timestamp column as whole seconds since 1970, on the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", moment)), BigInteger)
    # SQLite keeps our timestamps as naive UTC text; strftime reads them as UTC.
    return cast(func.strftime("%s", moment), BigInteger)


def offset_changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[int, int]]:
    """``(from_epoch, offset_seconds)`` for every stretch of constant offset in [start, end]."""

    def offset(moment: datetime) -> int:
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    changes = [(int(start.timestamp()), offset(start))]
    step = timedelta(hours=6)  # zones change at most twice a year, never twice in 6 hours
    moment = start
    while moment < end:
        following = min(moment + step, end)
        if offset(following) != offset(moment):
            before, after = moment, following
            while after - before > timedelta(seconds=1):  # find the second it changed
                middle = before + (after - before) / 2
                if offset(middle) == offset(before):
                    before = middle
                else:
                    after = middle
            changes.append((int(after.timestamp()), offset(following)))
        moment = following
    return changes


def to_local(epoch: ColumnElement[int], changes: Sequence[tuple[int, int]]) -> ColumnElement[int]:
    """``epoch`` (UTC seconds, within the range) as local wall-clock seconds."""
    if len(changes) == 1:
        return epoch + literal(changes[0][1], BigInteger)
    whens = [
        (epoch < literal(changes[n + 1][0], BigInteger), literal(changes[n][1], BigInteger))
        for n in range(len(changes) - 1)
    ]
    return epoch + case(*whens, else_=literal(changes[-1][1], BigInteger))


def clip(value: ColumnElement[int], low: int, high: int) -> ColumnElement[int]:
    # CASE rather than GREATEST/LEAST or max()/min(): the same SQL on both databases.
    low_sql, high_sql = literal(low, BigInteger), literal(high, BigInteger)
    return case((value < low_sql, low_sql), (value > high_sql, high_sql), else_=value)


def week_monday(local_epoch: ColumnElement[int]) -> ColumnElement[int]:
    """The local week of a local epoch, as a number whose Monday :func:`monday` gives."""
    day = local_epoch // SECONDS_PER_DAY
    return (day + EPOCH_WEEKDAY_SHIFT) // 7


def monday(week_number: int) -> date:
    return EPOCH + timedelta(days=int(week_number) * 7 - EPOCH_WEEKDAY_SHIFT)
