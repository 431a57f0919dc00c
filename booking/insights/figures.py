"""The numbers behind the console's insight charts: plain data for one site and date range.

Every figure is counted by the database (GROUP BY), on SQLite and PostgreSQL alike. Times
are stored in UTC but staff think in the centre's wall-clock time, so rows are bucketed by
the site's LOCAL hour, weekday and week, by the SQL of :mod:`booking.insights.local_time`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from booking.alerts.models.alerts import StaffAlert
from booking.core.models.sites import Site
from booking.health.operations import ALERT_FOLLOW_UP as BP_FOLLOW_UP
from booking.health.operations import ALERT_URGENT as BP_URGENT
from booking.insights import local_time
from booking.insights.local_time import DateRange
from booking.lending.models.loans import Loan
from booking.lending.models.tool_types import ToolType
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind

# Bookings that were used: the resident checked in (completed, on leave, or released
# after a leave that ran too long all started with a check-in).
_USED = (
    BookingStatus.CHECKED_IN,
    BookingStatus.ON_LEAVE,
    BookingStatus.COMPLETED,
    BookingStatus.RELEASED,
)
# Bookings that held a room: approved and not called off (pending, cancelled, rejected,
# expired offers never held it).
ROOM_HELD = (
    BookingStatus.CONFIRMED,
    BookingStatus.CHECKED_IN,
    BookingStatus.ON_LEAVE,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.RELEASED,
)
# Seat bookings whose outcome is known: the resident came, or did not.
_SEAT_DECIDED = (*_USED, BookingStatus.NO_SHOW)


# --- study-seat occupancy ----------------------------------------------------------------------


@dataclass(frozen=True)
class OccupancyCell:
    weekday: int  # Monday 0 … Sunday 6, local
    hour: int  # 0–23, local
    used_seconds: int  # seat-seconds checked-in bookings held the study seats
    capacity_seconds: int  # seat-seconds the seats offered in that hour over the range

    @property
    def rate(self) -> float:
        return self.used_seconds / self.capacity_seconds if self.capacity_seconds else 0.0


@dataclass(frozen=True)
class SeatOccupancy:
    seats: int
    first_hour: int  # the hours worth drawing: opening hours, widened to any use outside them
    last_hour: int
    cells: dict[tuple[int, int], OccupancyCell]  # by (weekday, hour), every one of 7 × 24

    def cell(self, weekday: int, hour: int) -> OccupancyCell:
        return self.cells[(weekday, hour)]

    @property
    def is_empty(self) -> bool:
        return all(cell.used_seconds == 0 for cell in self.cells.values())


def seat_occupancy(session: Session, *, site_id: int, within: DateRange) -> SeatOccupancy:
    """How full the study seats were, by local weekday and hour of day.

    A seat counts as occupied from the booked start until the booked end, or until the
    resident gave it up if earlier, for bookings the resident checked in to; no-shows and
    cancellations leave it empty. A cell's rate is the occupied seat-time over what all the
    site's study seats offered in that hour on those weekdays of the range.
    """
    zone = local_time.site_zone(session, site_id)
    site = session.get(Site, site_id)
    assert site is not None
    low_utc, high_utc = within.utc_bounds(zone)
    low, high = int(low_utc.timestamp()), int(high_utc.timestamp())
    changes = local_time.offset_changes(zone, low_utc, high_utc)

    ends = case(
        (
            and_(Booking.finished_at.is_not(None), Booking.finished_at < Booking.ends_at),
            Booking.finished_at,
        ),
        else_=Booking.ends_at,
    )
    # Layered subqueries so each timestamp is converted once: UTC seconds, then clipped to
    # the range and shifted to local seconds.
    raw = (
        select(
            local_time.epoch_seconds(session, Booking.starts_at).label("a"),
            local_time.epoch_seconds(session, ends).label("b"),
        )
        .where(
            Booking.site_id == site_id,
            Booking.seat_id.is_not(None),
            Booking.status.in_(_USED),
            Booking.checked_in_at.is_not(None),
            Booking.starts_at < high_utc,
            ends > low_utc,
            ends > Booking.starts_at,  # gave the seat up before its time: never occupied
        )
        .subquery("raw")
    )
    clipped = select(
        local_time.clip(raw.c.a, low, high).label("a"),
        local_time.clip(raw.c.b, low, high).label("b"),
    ).subquery("clipped")
    # Materialised, so each booking's local start and end are computed once, not once per
    # reference in the queries that use them (both databases would otherwise inline them).
    used = (
        select(
            local_time.to_local(clipped.c.a, changes).label("s"),
            local_time.to_local(clipped.c.b, changes).label("e"),
        )
        .cte("used")
        .prefix_with("MATERIALIZED")
    )
    # One row per booking and local clock hour it touches, however long the booking.
    hours = select(used.c.s, used.c.e, (used.c.s // local_time.SECONDS_PER_HOUR).label("h")).cte(
        "hours", recursive=True
    )
    hours = hours.union_all(
        select(hours.c.s, hours.c.e, hours.c.h + 1).where(
            (hours.c.h + 1) * local_time.SECONDS_PER_HOUR < hours.c.e
        )
    )
    hour_start = hours.c.h * local_time.SECONDS_PER_HOUR
    hour_end = hour_start + local_time.SECONDS_PER_HOUR
    overlap = case((hours.c.e < hour_end, hours.c.e), else_=hour_end) - case(
        (hours.c.s > hour_start, hours.c.s), else_=hour_start
    )
    # Grouped in an outer query: PostgreSQL binds each constant of an expression
    # separately, so the same expression in SELECT and GROUP BY would not match.
    touched = select(
        ((hours.c.h // 24 + local_time.EPOCH_WEEKDAY_SHIFT) % 7).label("weekday"),
        (hours.c.h % 24).label("hour"),
        overlap.label("seconds"),
    ).subquery("touched")
    rows = session.execute(
        select(touched.c.weekday, touched.c.hour, func.sum(touched.c.seconds)).group_by(
            touched.c.weekday, touched.c.hour
        )
    )
    by_cell = {(int(w), int(h)): int(seconds) for w, h, seconds in rows}

    seats = int(
        session.scalar(
            select(func.count(Seat.id))
            .join(Space, Seat.space_id == Space.id)
            .where(Space.site_id == site_id, Space.kind == SpaceKind.STUDY)
        )
        or 0
    )
    weekdays = [0] * 7
    for day in within.dates():
        weekdays[day.weekday()] += 1
    cells = {
        (w, h): OccupancyCell(
            weekday=w,
            hour=h,
            used_seconds=by_cell.get((w, h), 0),
            capacity_seconds=seats * weekdays[w] * local_time.SECONDS_PER_HOUR,
        )
        for w in range(7)
        for h in range(24)
    }
    used_hours = [h for (_, h), seconds in by_cell.items() if seconds > 0]
    closes = site.closes_at.hour + (1 if site.closes_at.minute else 0)
    first_hour = min([site.opens_at.hour, *used_hours])
    last_hour = max([closes - 1, *used_hours])
    return SeatOccupancy(seats=seats, first_hour=first_hour, last_hour=last_hour, cells=cells)


# --- room bookings per week --------------------------------------------------------------------


@dataclass(frozen=True)
class Room:
    id: int
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class RoomBookings:
    weeks: list[date]  # Mondays
    rooms: list[Room]  # every activity room of the site, in the order the chart stacks them
    counts: dict[tuple[date, int], int]  # (Monday, room id) → bookings starting that week

    def count(self, week: date, room_id: int) -> int:
        return self.counts.get((week, room_id), 0)

    def week_total(self, week: date) -> int:
        return sum(self.count(week, room.id) for room in self.rooms)

    @property
    def is_empty(self) -> bool:
        return not any(self.counts.values())


def room_bookings_per_week(session: Session, *, site_id: int, within: DateRange) -> RoomBookings:
    """Activity-room bookings that held the room (see :data:`ROOM_HELD`), by room and the
    local week they start in; residents' bookings and staff series alike."""
    zone = local_time.site_zone(session, site_id)
    low_utc, high_utc = within.utc_bounds(zone)
    changes = local_time.offset_changes(zone, low_utc, high_utc)
    week = local_time.week_monday(
        local_time.to_local(local_time.epoch_seconds(session, Booking.starts_at), changes)
    )
    held = (
        select(week.label("week"), Booking.space_id)
        .where(
            Booking.site_id == site_id,
            Booking.seat_id.is_(None),
            Booking.status.in_(ROOM_HELD),
            Booking.starts_at >= low_utc,
            Booking.starts_at < high_utc,
        )
        .subquery("held")
    )
    rows = session.execute(
        select(held.c.week, held.c.space_id, func.count()).group_by(held.c.week, held.c.space_id)
    )
    counts = {(local_time.monday(w), int(space_id)): int(n) for w, space_id, n in rows}
    rooms = [
        Room(space.id, space.name_zh, space.name_en)
        for space in session.scalars(
            select(Space)
            .where(Space.site_id == site_id, Space.kind == SpaceKind.ACTIVITY)
            .order_by(Space.id)
        )
    ]
    return RoomBookings(weeks=within.weeks(), rooms=rooms, counts=counts)


# --- no-shows per week -------------------------------------------------------------------------


@dataclass(frozen=True)
class NoShowWeek:
    week: date  # Monday
    decided: int  # seat bookings whose resident came or did not
    no_shows: int

    @property
    def rate(self) -> float | None:
        return self.no_shows / self.decided if self.decided else None


def no_show_rate_per_week(session: Session, *, site_id: int, within: DateRange) -> list[NoShowWeek]:
    """Of the seat bookings starting in each local week whose outcome is known (checked in,
    or released as a no-show), how many were no-shows. Cancelled ones are not counted."""
    zone = local_time.site_zone(session, site_id)
    low_utc, high_utc = within.utc_bounds(zone)
    changes = local_time.offset_changes(zone, low_utc, high_utc)
    week = local_time.week_monday(
        local_time.to_local(local_time.epoch_seconds(session, Booking.starts_at), changes)
    )
    no_show = case((Booking.status == BookingStatus.NO_SHOW, 1), else_=0)
    decided = (
        select(week.label("week"), no_show.label("missed"))
        .where(
            Booking.site_id == site_id,
            Booking.seat_id.is_not(None),
            Booking.resident_id.is_not(None),
            Booking.status.in_(_SEAT_DECIDED),
            Booking.starts_at >= low_utc,
            Booking.starts_at < high_utc,
        )
        .subquery("decided")
    )
    rows = session.execute(
        select(decided.c.week, func.count(), func.sum(decided.c.missed)).group_by(decided.c.week)
    )
    found = {local_time.monday(w): (int(total), int(missed or 0)) for w, total, missed in rows}
    return [NoShowWeek(monday, *found.get(monday, (0, 0))) for monday in within.weeks()]


# --- loans per tool type ---------------------------------------------------------------------


@dataclass(frozen=True)
class ToolLoans:
    tool_type_id: int
    name_zh: str
    name_en: str
    loans: int  # loans that started in the range
    overdue: int  # of those, how many went overdue at some point (returned late or not yet)

    @property
    def overdue_rate(self) -> float | None:
        return self.overdue / self.loans if self.loans else None


def loans_per_tool_type(session: Session, *, site_id: int, within: DateRange) -> list[ToolLoans]:
    """Loans that started in the range, per tool type (every type of the site, in its
    order), and how many of them ran past their due date."""
    low_utc, high_utc = within.utc_bounds(local_time.site_zone(session, site_id))
    went_overdue = case((Loan.overdue_since.is_not(None), 1), else_=0)
    rows = session.execute(
        select(Loan.tool_type_id, func.count(), func.sum(went_overdue))
        .where(Loan.site_id == site_id, Loan.started_at >= low_utc, Loan.started_at < high_utc)
        .group_by(Loan.tool_type_id)
    )
    found = {int(type_id): (int(n), int(late or 0)) for type_id, n, late in rows}
    return [
        ToolLoans(tool.id, tool.name_zh, tool.name_en, *found.get(tool.id, (0, 0)))
        for tool in session.scalars(
            select(ToolType).where(ToolType.site_id == site_id).order_by(ToolType.id)
        )
    ]


# --- blood-pressure alerts per week ------------------------------------------------------------


@dataclass(frozen=True)
class AlertWeek:
    week: date  # Monday
    urgent: int  # very high readings that needed someone at once
    follow_up: int  # residents living alone measured high on several days

    @property
    def total(self) -> int:
        return self.urgent + self.follow_up


def bp_alerts_per_week(session: Session, *, site_id: int, within: DateRange) -> list[AlertWeek]:
    """Blood-pressure staff alerts raised in each local week, by kind. Counts alerts, not
    readings: a second urgent reading while the first alert is open is the same alert."""
    zone = local_time.site_zone(session, site_id)
    low_utc, high_utc = within.utc_bounds(zone)
    changes = local_time.offset_changes(zone, low_utc, high_utc)
    week = local_time.week_monday(
        local_time.to_local(local_time.epoch_seconds(session, StaffAlert.created_at), changes)
    )
    raised = (
        select(week.label("week"), StaffAlert.kind)
        .where(
            StaffAlert.site_id == site_id,
            StaffAlert.kind.in_((BP_URGENT, BP_FOLLOW_UP)),
            StaffAlert.created_at >= low_utc,
            StaffAlert.created_at < high_utc,
        )
        .subquery("raised")
    )
    rows = session.execute(
        select(raised.c.week, raised.c.kind, func.count()).group_by(raised.c.week, raised.c.kind)
    )
    counts = {(local_time.monday(w), kind): int(n) for w, kind, n in rows}
    return [
        AlertWeek(monday, counts.get((monday, BP_URGENT), 0), counts.get((monday, BP_FOLLOW_UP), 0))
        for monday in within.weeks()
    ]
