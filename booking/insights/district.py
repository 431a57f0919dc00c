"""The district overview's figures: every centre of the deployment side by side.

A district may run a couple of hundred centres, so nothing here asks the database once per
centre: each figure is one statement grouped by ``site_id``, whatever the number of centres.
Each centre's "today" and "week" are its own local ones; centres are grouped by time zone
(in practice one, Asia/Shanghai) and the SQL carries one set of UTC bounds and one local-time
conversion per zone, so the statement count stays constant and the SQL grows only with the
number of zones.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, distinct, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core.errors import InvalidInput
from booking.core.models.sites import Site
from booking.health.operations import ALERT_FOLLOW_UP as BP_FOLLOW_UP
from booking.insights import local_time
from booking.insights.figures import ROOM_HELD
from booking.insights.local_time import DateRange
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan, LoanStatus
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind

MIN_WEEKS, MAX_WEEKS, DEFAULT_WEEKS = 4, 12, 8
# A seat booking was used once the resident checked in (see figures._USED).
SEAT_USED = (
    BookingStatus.CHECKED_IN,
    BookingStatus.ON_LEAVE,
    BookingStatus.COMPLETED,
    BookingStatus.RELEASED,
)
# A seat is taken right now while its resident is checked in or briefly away.
SEAT_TAKEN_NOW = (BookingStatus.CHECKED_IN, BookingStatus.ON_LEAVE)


@dataclass(frozen=True)
class Centre:
    id: int
    slug: str
    name_zh: str
    name_en: str
    timezone: str


def all_centres(session: Session) -> list[Centre]:
    """Every centre of the deployment, by slug."""
    rows = session.execute(
        select(Site.id, Site.slug, Site.name_zh, Site.name_en, Site.timezone).order_by(Site.slug)
    )
    return [Centre(*row) for row in rows]


# --- the zones the centres are in --------------------------------------------------------------


@dataclass(frozen=True)
class _Zone:
    """The centres of one time zone and their shared local range, as UTC bounds."""

    site_ids: tuple[int, ...]
    low: datetime
    high: datetime
    changes: list[tuple[int, int]]


def _zones(found: Sequence[Centre], range_of: dict[str, DateRange]) -> list[_Zone]:
    by_zone: dict[str, list[int]] = {}
    for centre in found:
        by_zone.setdefault(centre.timezone, []).append(centre.id)
    zones = []
    for name, ids in sorted(by_zone.items()):
        low, high = range_of[name].utc_bounds(ZoneInfo(name))
        zones.append(
            _Zone(tuple(ids), low, high, local_time.offset_changes(ZoneInfo(name), low, high))
        )
    return zones


def _within(
    zones: Sequence[_Zone],
    site_id: InstrumentedAttribute[int],
    moment: InstrumentedAttribute[datetime],
) -> ColumnElement[bool]:
    """``moment`` inside its centre's range; one zone needs no centre list."""
    if len(zones) == 1:
        return and_(moment >= zones[0].low, moment < zones[0].high)
    return or_(*(and_(site_id.in_(z.site_ids), moment >= z.low, moment < z.high) for z in zones))


def _local_week(
    session: Session,
    zones: Sequence[_Zone],
    site_id: InstrumentedAttribute[int],
    moment: InstrumentedAttribute[datetime],
) -> ColumnElement[int]:
    """The local week number (see :func:`local_time.week_monday`) of ``moment`` at its centre."""
    epoch = local_time.epoch_seconds(session, moment)
    weeks = [local_time.week_monday(local_time.to_local(epoch, z.changes)) for z in zones]
    if len(zones) == 1:
        return weeks[0]
    whens = [
        (site_id.in_(z.site_ids), week) for z, week in zip(zones[:-1], weeks[:-1], strict=True)
    ]
    return case(*whens, else_=weeks[-1])


def local_days(found: Sequence[Centre], now: datetime) -> dict[str, date]:
    """Today's date in each time zone of the centres."""
    return {c.timezone: now.astimezone(ZoneInfo(c.timezone)).date() for c in found}


# --- today ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CentreToday:
    centre: Centre
    day: date  # the centre's local today
    seats: int  # study seats of the centre's open study rooms
    seats_in_use: int  # taken right now (checked in, or briefly away)
    seat_bookings: int  # seat bookings starting today that hold or held the seat
    seat_bookings_used: int  # of those, how many the resident checked in to
    rooms: int  # open activity rooms
    rooms_booked: int  # of those, how many have at least one booking today
    room_bookings: int  # approved room bookings starting today
    loans_out: int  # tools in residents' hands (overdue ones included)
    loans_overdue: int
    alerts_open: int  # staff alerts not yet resolved, of any kind
    alerts_urgent: int  # of those, the urgent ones
    bp_follow_ups: int  # blood-pressure follow-up visits waiting (not resolved)


def today(session: Session, *, centres: Sequence[Centre], now: datetime) -> list[CentreToday]:
    """Each of ``centres``' figures for its own local today, in five statements."""
    found = list(centres)
    if not found:
        return []
    days = local_days(found, now)
    zones = _zones(found, {zone: DateRange(day, day) for zone, day in days.items()})

    capacity: dict[tuple[int, SpaceKind], tuple[int, int]] = {}
    for site_id, kind, spaces, seats in session.execute(
        select(Space.site_id, Space.kind, func.count(distinct(Space.id)), func.count(Seat.id))
        .outerjoin(Seat, Seat.space_id == Space.id)
        .where(Space.retired_at.is_(None))
        .group_by(Space.site_id, Space.kind)
    ):
        capacity[(int(site_id), kind)] = (int(spaces), int(seats))

    is_seat = Booking.seat_id.is_not(None)
    is_room = Booking.seat_id.is_(None)
    held = Booking.status.in_(ROOM_HELD)
    booked: dict[int, tuple[int, int, int, int]] = {}
    for site_id, seat_booked, seat_used, room_bookings, rooms_booked in session.execute(
        select(
            Booking.site_id,
            func.sum(case((and_(is_seat, held), 1), else_=0)),
            func.sum(case((and_(is_seat, Booking.status.in_(SEAT_USED)), 1), else_=0)),
            func.sum(case((and_(is_room, held), 1), else_=0)),
            func.count(distinct(case((and_(is_room, held), Booking.space_id)))),
        )
        .where(_within(zones, Booking.site_id, Booking.starts_at))
        .group_by(Booking.site_id)
    ):
        booked[int(site_id)] = (
            int(seat_booked or 0),
            int(seat_used or 0),
            int(room_bookings or 0),
            int(rooms_booked or 0),
        )

    in_use: dict[int, int] = {
        int(site_id): int(n)
        for site_id, n in session.execute(
            select(Booking.site_id, func.count())
            .where(is_seat, Booking.status.in_(SEAT_TAKEN_NOW))
            .group_by(Booking.site_id)
        )
    }

    loans: dict[int, tuple[int, int]] = {}
    for site_id, out, overdue in session.execute(
        select(
            Loan.site_id,
            func.count(),
            func.sum(case((Loan.status == LoanStatus.OVERDUE, 1), else_=0)),
        )
        .where(Loan.status.in_(OPEN_LOAN_STATUSES))
        .group_by(Loan.site_id)
    ):
        loans[int(site_id)] = (int(out), int(overdue or 0))

    alerts: dict[int, tuple[int, int, int]] = {}
    for site_id, open_, urgent, follow_ups in session.execute(
        select(
            StaffAlert.site_id,
            func.count(),
            func.sum(case((StaffAlert.severity == AlertSeverity.URGENT, 1), else_=0)),
            func.sum(case((StaffAlert.kind == BP_FOLLOW_UP, 1), else_=0)),
        )
        .where(StaffAlert.status != AlertStatus.RESOLVED)
        .group_by(StaffAlert.site_id)
    ):
        alerts[int(site_id)] = (int(open_), int(urgent or 0), int(follow_ups or 0))

    result = []
    for centre in found:
        seat_booked, seat_used, room_bookings, rooms_booked = booked.get(centre.id, (0, 0, 0, 0))
        out, overdue = loans.get(centre.id, (0, 0))
        open_, urgent, follow_ups = alerts.get(centre.id, (0, 0, 0))
        result.append(
            CentreToday(
                centre=centre,
                day=days[centre.timezone],
                seats=capacity.get((centre.id, SpaceKind.STUDY), (0, 0))[1],
                seats_in_use=in_use.get(centre.id, 0),
                seat_bookings=seat_booked,
                seat_bookings_used=seat_used,
                rooms=capacity.get((centre.id, SpaceKind.ACTIVITY), (0, 0))[0],
                rooms_booked=rooms_booked,
                room_bookings=room_bookings,
                loans_out=out,
                loans_overdue=overdue,
                alerts_open=open_,
                alerts_urgent=urgent,
                bp_follow_ups=follow_ups,
            )
        )
    return result


# --- weekly trends -------------------------------------------------------------------------------


class Trend(enum.StrEnum):
    """What the weekly trends count, per centre and local week."""

    SEATS = "seats"  # seat bookings the resident checked in to
    ROOMS = "rooms"  # approved activity-room bookings (staff classes included)
    LOANS = "loans"  # loans that started
    ALERTS = "alerts"  # staff alerts raised, of any kind
    BP_FOLLOW_UPS = "bp-follow-ups"  # blood-pressure follow-up visits asked for


@dataclass(frozen=True)
class WeeklyTrends:
    weeks: list[date]  # Mondays, oldest first
    centres: list[Centre]
    counts: dict[tuple[Trend, int, date], int]  # (trend, site id, Monday) → count

    def count(self, trend: Trend, site_id: int, week: date) -> int:
        return self.counts.get((trend, site_id, week), 0)

    def series(self, trend: Trend, site_id: int) -> list[int]:
        return [self.count(trend, site_id, week) for week in self.weeks]

    def total(self, trend: Trend, site_id: int) -> int:
        return sum(self.series(trend, site_id))

    def highest(self, trend: Trend) -> int:
        """The largest weekly count of any centre: the shared scale that makes centres
        comparable at a glance."""
        return max(
            (n for (t, _, _), n in self.counts.items() if t is trend),
            default=0,
        )


def check_weeks(weeks: int) -> int:
    if not MIN_WEEKS <= weeks <= MAX_WEEKS:
        raise InvalidInput(
            f"weeks must be {MIN_WEEKS} to {MAX_WEEKS}", field="weeks", min=MIN_WEEKS, max=MAX_WEEKS
        )
    return weeks


def weekly(
    session: Session, *, centres: Sequence[Centre], now: datetime, weeks: int = DEFAULT_WEEKS
) -> WeeklyTrends:
    """Each trend per centre and local week, for this week so far and the ``weeks - 1``
    before it, in three statements.

    The weeks are those of the latest local date among the centres; a centre whose local
    date is still the day before counts up to its own today.
    """
    check_weeks(weeks)
    found = list(centres)
    if not found:
        return WeeklyTrends([], [], {})
    days = local_days(found, now)
    within = DateRange.recent_weeks(max(days.values()), weeks)
    zones = _zones(
        found, {zone: DateRange(within.first, max(day, within.first)) for zone, day in days.items()}
    )
    counts: dict[tuple[Trend, int, date], int] = {}

    def keep(trend: Trend, site_id: int, week: int, n: int | None) -> None:
        if n:
            counts[(trend, int(site_id), local_time.monday(week))] = int(n)

    week = _local_week(session, zones, Booking.site_id, Booking.starts_at)
    is_seat = Booking.seat_id.is_not(None)
    bookings = (
        select(
            Booking.site_id.label("site_id"),
            week.label("week"),
            case((and_(is_seat, Booking.status.in_(SEAT_USED)), 1), else_=0).label("seat"),
            case((and_(~is_seat, Booking.status.in_(ROOM_HELD)), 1), else_=0).label("room"),
        )
        .where(_within(zones, Booking.site_id, Booking.starts_at))
        .subquery("counted")
    )
    # Grouped in an outer query: PostgreSQL binds each constant of an expression separately,
    # so the same week expression in SELECT and GROUP BY would not match (see figures).
    for site_id, monday, seats, rooms in session.execute(
        select(
            bookings.c.site_id,
            bookings.c.week,
            func.sum(bookings.c.seat),
            func.sum(bookings.c.room),
        ).group_by(bookings.c.site_id, bookings.c.week)
    ):
        keep(Trend.SEATS, site_id, monday, seats)
        keep(Trend.ROOMS, site_id, monday, rooms)

    started = (
        select(
            Loan.site_id.label("site_id"),
            _local_week(session, zones, Loan.site_id, Loan.started_at).label("week"),
        )
        .where(_within(zones, Loan.site_id, Loan.started_at))
        .subquery("started")
    )
    for site_id, monday, n in session.execute(
        select(started.c.site_id, started.c.week, func.count()).group_by(
            started.c.site_id, started.c.week
        )
    ):
        keep(Trend.LOANS, site_id, monday, n)

    raised = (
        select(
            StaffAlert.site_id.label("site_id"),
            _local_week(session, zones, StaffAlert.site_id, StaffAlert.created_at).label("week"),
            case((StaffAlert.kind == BP_FOLLOW_UP, 1), else_=0).label("follow_up"),
        )
        .where(_within(zones, StaffAlert.site_id, StaffAlert.created_at))
        .subquery("raised")
    )
    for site_id, monday, n, follow_ups in session.execute(
        select(
            raised.c.site_id, raised.c.week, func.count(), func.sum(raised.c.follow_up)
        ).group_by(raised.c.site_id, raised.c.week)
    ):
        keep(Trend.ALERTS, site_id, monday, n)
        keep(Trend.BP_FOLLOW_UPS, site_id, monday, follow_ups)

    return WeeklyTrends(weeks=within.weeks(), centres=found, counts=counts)
