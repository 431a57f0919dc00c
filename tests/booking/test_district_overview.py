"""The district overview's figures: three centres side by side, each counted in its own local
day and week, on SQLite and PostgreSQL. The suite's clock is Tuesday 2026-11-24 09:30 in
Shanghai, which is still Monday 23rd 20:30 in New York."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from booking_centre import Centre, build_centre

from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import InvalidInput
from booking.core.models.sites import Site
from booking.health.operations import ALERT_FOLLOW_UP, ALERT_URGENT
from booking.insights import district
from booking.insights.district import Trend
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.spaces import Space
from devices.fleet import district as device_figures
from devices.models.device import Device, DeviceKind

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
TUESDAY = date(2026, 11, 24)  # today in Shanghai
MONDAY = date(2026, 11, 23)  # today in New York


def local(day: date, hour: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class District:
    anting: Centre
    baoshan: Centre
    newyork: Centre


@pytest.fixture
def towns(any_database: Database, clock: FrozenClock) -> District:
    """Three centres built alike; the third keeps New York's time."""
    anting = build_centre(any_database, clock, slug="anting", phones_from=1, staff_name="anting")
    baoshan = build_centre(
        any_database, clock, slug="baoshan", phones_from=11, staff_name="baoshan"
    )
    newyork = build_centre(
        any_database, clock, slug="newyork", phones_from=21, staff_name="newyork"
    )
    with any_database.write() as session:
        site = session.get(Site, newyork.site_id)
        assert site is not None
        site.timezone = "America/New_York"
    return District(anting, baoshan, newyork)


def book(
    database: Database,
    centre: Centre,
    starts: datetime,
    status: BookingStatus,
    *,
    seat: int | None = 0,
    room: int | None = None,
    hours: int = 1,
) -> None:
    """A booking as the jobs would have left it; ``seat=None`` books ``room`` (the dance room)."""
    checked_in = status in district.SEAT_USED
    with database.write() as session:
        session.add(
            Booking(
                site_id=centre.site_id,
                space_id=centre.study_id if seat is not None else (room or centre.dance_id),
                seat_id=centre.seats[seat] if seat is not None else None,
                resident_id=centre.residents[0],
                status=status,
                starts_at=starts,
                ends_at=starts + timedelta(hours=hours),
                created_at=starts - timedelta(days=1),
                checked_in_at=starts if checked_in else None,
            )
        )


def lend(
    database: Database,
    centre: Centre,
    started: datetime,
    status: LoanStatus,
    tag: str,
) -> None:
    with database.write() as session:
        tool = session.query(ToolType).filter_by(site_id=centre.site_id).one_or_none()
        if tool is None:
            tool = ToolType(site_id=centre.site_id, code="drill", name_zh="电钻", name_en="Drill")
            session.add(tool)
            session.flush()
        out = status in (LoanStatus.ACTIVE, LoanStatus.OVERDUE)
        item = Item(
            site_id=centre.site_id,
            tool_type_id=tool.id,
            asset_tag=tag,
            status=ItemStatus.ON_LOAN if out else ItemStatus.AVAILABLE,
        )
        session.add(item)
        session.flush()
        session.add(
            Loan(
                site_id=centre.site_id, item_id=item.id, tool_type_id=tool.id,
                resident_id=centre.residents[0], channel=LoanChannel.COUNTER, status=status,
                started_at=started, due_at=started + timedelta(days=3),
                returned_at=None if out else started + timedelta(days=1),
                overdue_since=started + timedelta(days=3) if status is LoanStatus.OVERDUE else None,
            )
        )  # fmt: skip


def alert(
    database: Database,
    centre: Centre,
    created: datetime,
    kind: str,
    severity: AlertSeverity,
    status: AlertStatus = AlertStatus.OPEN,
) -> None:
    with database.write() as session:
        session.add(
            StaffAlert(
                site_id=centre.site_id, kind=kind, severity=severity, status=status,
                summary=kind, created_at=created,
                resolved_at=created + timedelta(hours=1) if status is AlertStatus.RESOLVED else None,
            )
        )  # fmt: skip


def figures_today(database: Database, clock: FrozenClock) -> dict[str, district.CentreToday]:
    with database.read() as session:
        found = district.today(session, centres=district.all_centres(session), now=clock.now())
    return {row.centre.slug: row for row in found}


# --- today ---------------------------------------------------------------------------------------


def test_todays_seat_and_room_use_counts_each_centres_own_local_day(
    any_database: Database, clock: FrozenClock, towns: District
) -> None:
    a, ny = towns.anting, towns.newyork
    book(any_database, a, local(TUESDAY, 8), BookingStatus.COMPLETED, seat=0)
    book(any_database, a, local(TUESDAY, 9), BookingStatus.CHECKED_IN, seat=1, hours=2)
    book(any_database, a, local(TUESDAY, 14), BookingStatus.CONFIRMED, seat=2)
    book(any_database, a, local(TUESDAY, 15), BookingStatus.CANCELLED, seat=3)  # never held
    book(any_database, a, local(MONDAY, 10), BookingStatus.COMPLETED, seat=0)  # yesterday
    book(any_database, a, local(TUESDAY, 10), BookingStatus.CONFIRMED, seat=None, hours=2)
    book(any_database, a, local(TUESDAY, 15), BookingStatus.CONFIRMED, seat=None)
    book(any_database, a, local(TUESDAY, 10), BookingStatus.PENDING, seat=None, room=a.meeting_id)
    # New York's today is Monday: its evening booking is today's, Tuesday's is tomorrow's.
    book(any_database, ny, local(MONDAY, 19, NEW_YORK), BookingStatus.CHECKED_IN, hours=2)
    book(any_database, ny, local(TUESDAY, 9, NEW_YORK), BookingStatus.CONFIRMED, seat=1)
    book(any_database, ny, local(MONDAY, 18, NEW_YORK), BookingStatus.CONFIRMED, seat=None)

    found = figures_today(any_database, clock)

    assert list(found) == ["anting", "baoshan", "newyork"]
    anting = found["anting"]
    assert anting.day == TUESDAY
    assert (anting.seats, anting.seats_in_use) == (4, 1)
    assert (anting.seat_bookings, anting.seat_bookings_used) == (3, 2)
    assert (anting.rooms, anting.rooms_booked, anting.room_bookings) == (2, 1, 2)
    baoshan = found["baoshan"]
    assert (baoshan.seats, baoshan.seats_in_use, baoshan.seat_bookings) == (4, 0, 0)
    assert (baoshan.rooms, baoshan.rooms_booked, baoshan.room_bookings) == (2, 0, 0)
    newyork = found["newyork"]
    assert newyork.day == MONDAY
    assert (newyork.seats_in_use, newyork.seat_bookings, newyork.seat_bookings_used) == (1, 1, 1)
    assert (newyork.rooms_booked, newyork.room_bookings) == (1, 1)


def test_a_retired_room_is_no_longer_counted_among_the_rooms(
    any_database: Database, clock: FrozenClock, towns: District
) -> None:
    with any_database.write() as session:
        meeting = session.get(Space, towns.baoshan.meeting_id)
        assert meeting is not None
        meeting.retired_at = clock.now() - timedelta(days=1)

    found = figures_today(any_database, clock)

    assert found["baoshan"].rooms == 1
    assert found["anting"].rooms == 2


def test_loans_out_and_overdue_alerts_and_follow_ups_are_counted_per_centre(
    any_database: Database, clock: FrozenClock, towns: District
) -> None:
    b, ny = towns.baoshan, towns.newyork
    week_ago = clock.now() - timedelta(days=7)
    lend(any_database, b, week_ago, LoanStatus.ACTIVE, "B-1")
    lend(any_database, b, week_ago, LoanStatus.OVERDUE, "B-2")
    lend(any_database, b, week_ago, LoanStatus.RETURNED, "B-3")
    lend(any_database, ny, week_ago, LoanStatus.OVERDUE, "N-1")
    alert(any_database, b, week_ago, ALERT_URGENT, AlertSeverity.URGENT)
    alert(
        any_database, b, week_ago, ALERT_FOLLOW_UP, AlertSeverity.WARNING, AlertStatus.ACKNOWLEDGED
    )
    alert(any_database, b, week_ago, ALERT_FOLLOW_UP, AlertSeverity.WARNING, AlertStatus.RESOLVED)
    alert(any_database, ny, week_ago, "locker.door_left_open", AlertSeverity.WARNING)

    found = figures_today(any_database, clock)

    baoshan = found["baoshan"]
    assert (baoshan.loans_out, baoshan.loans_overdue) == (2, 1)
    assert (baoshan.alerts_open, baoshan.alerts_urgent, baoshan.bp_follow_ups) == (2, 1, 1)
    newyork = found["newyork"]
    assert (newyork.loans_out, newyork.loans_overdue) == (1, 1)
    assert (newyork.alerts_open, newyork.alerts_urgent, newyork.bp_follow_ups) == (1, 0, 0)
    anting = found["anting"]
    assert (anting.loans_out, anting.alerts_open, anting.bp_follow_ups) == (0, 0, 0)


def test_devices_offline_are_counted_per_centre_leaving_out_revoked_ones(
    any_database: Database, clock: FrozenClock, towns: District
) -> None:
    now = clock.now()
    with any_database.write() as session:
        for n, (centre, online, revoked) in enumerate(
            [
                (towns.anting, True, False),
                (towns.anting, False, False),
                (towns.anting, False, True),  # taken out of service on purpose
                (towns.newyork, True, False),
            ]
        ):
            session.add(
                Device(
                    site_id=centre.site_id, device_id=f"locker-{n}", kind=DeviceKind.LOCKER,
                    mqtt_password_hash="x", online=online, created_at=now,
                    credentials_revoked_at=now if revoked else None,
                )
            )  # fmt: skip

    with any_database.read() as session:
        found = device_figures.offline_by_site(session)

    assert found == {
        towns.anting.site_id: device_figures.DeviceCount(devices=2, offline=1),
        towns.newyork.site_id: device_figures.DeviceCount(devices=1, offline=0),
    }


# --- weekly trends -------------------------------------------------------------------------------


def test_weekly_trends_count_each_centre_per_local_week(
    any_database: Database, clock: FrozenClock, towns: District
) -> None:
    a, b, ny = towns.anting, towns.baoshan, towns.newyork
    last_tuesday = TUESDAY - timedelta(days=7)
    # Monday 16th 00:30 in Shanghai is still Sunday in UTC: it is the week of the 16th.
    book(
        any_database,
        a,
        local(date(2026, 11, 16), 0) + timedelta(minutes=30),
        BookingStatus.COMPLETED,
    )
    book(any_database, a, local(last_tuesday, 10), BookingStatus.COMPLETED, seat=1)
    book(any_database, a, local(last_tuesday, 11), BookingStatus.NO_SHOW, seat=2)  # not used
    book(any_database, a, local(TUESDAY, 10), BookingStatus.CONFIRMED, seat=None)
    book(any_database, b, local(last_tuesday, 10), BookingStatus.COMPLETED, seat=None)
    book(any_database, b, local(last_tuesday, 12), BookingStatus.REJECTED, seat=None)
    lend(any_database, b, local(last_tuesday, 10), LoanStatus.RETURNED, "B-1")
    lend(any_database, b, local(TUESDAY, 9), LoanStatus.ACTIVE, "B-2")
    alert(any_database, b, local(last_tuesday, 10), ALERT_FOLLOW_UP, AlertSeverity.WARNING)
    alert(any_database, b, local(last_tuesday, 11), ALERT_URGENT, AlertSeverity.URGENT)
    # New York's Sunday evening is Monday morning in Shanghai, and still last week there.
    sunday_evening = local(date(2026, 11, 22), 20, NEW_YORK)
    assert sunday_evening.astimezone(SHANGHAI).date() == MONDAY
    alert(any_database, ny, sunday_evening, ALERT_FOLLOW_UP, AlertSeverity.WARNING)
    # Nine weeks ago: before the eight weeks shown.
    lend(any_database, ny, local(TUESDAY - timedelta(weeks=8), 10), LoanStatus.RETURNED, "N-1")

    with any_database.read() as session:
        trends = district.weekly(session, centres=district.all_centres(session), now=clock.now())

    this_week, last_week = date(2026, 11, 23), date(2026, 11, 16)
    assert trends.weeks[0] == date(2026, 10, 5) and trends.weeks[-1] == this_week
    assert len(trends.weeks) == 8
    assert [c.slug for c in trends.centres] == ["anting", "baoshan", "newyork"]
    assert trends.series(Trend.SEATS, a.site_id) == [0] * 6 + [2, 0]
    assert trends.series(Trend.ROOMS, a.site_id) == [0] * 7 + [1]
    assert trends.count(Trend.ROOMS, b.site_id, last_week) == 1
    assert trends.series(Trend.LOANS, b.site_id) == [0] * 6 + [1, 1]
    assert trends.count(Trend.ALERTS, b.site_id, last_week) == 2
    assert trends.count(Trend.BP_FOLLOW_UPS, b.site_id, last_week) == 1
    assert trends.series(Trend.BP_FOLLOW_UPS, ny.site_id) == [0] * 6 + [1, 0]
    assert trends.total(Trend.LOANS, ny.site_id) == 0
    assert trends.highest(Trend.SEATS) == 2
    assert trends.highest(Trend.LOANS) == 1


def test_weekly_trends_cover_four_to_twelve_weeks(
    any_database: Database, clock: FrozenClock, towns: District
) -> None:
    with any_database.read() as session:
        found = district.all_centres(session)
        assert len(district.weekly(session, centres=found, now=clock.now(), weeks=12).weeks) == 12
        for weeks in (3, 13):
            with pytest.raises(InvalidInput):
                district.weekly(session, centres=found, now=clock.now(), weeks=weeks)


def test_a_district_without_centres_has_no_figures(
    any_database: Database, clock: FrozenClock
) -> None:
    with any_database.read() as session:
        assert district.today(session, centres=[], now=clock.now()) == []
        assert district.weekly(session, centres=[], now=clock.now()).weeks == []
