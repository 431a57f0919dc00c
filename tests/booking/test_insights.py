"""The insight queries: exact figures from hand-built history, bucketed by the site's local
time (data are stored in UTC), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from booking_centre import Centre

from booking.alerts.models.alerts import AlertSeverity, StaffAlert
from booking.core.db import Database
from booking.core.errors import InvalidInput
from booking.core.models.sites import Site
from booking.insights import figures as insights
from booking.insights.local_time import DateRange
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.spaces.models.bookings import Booking, BookingStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
MON, TUE, WED = 0, 1, 2
# The week before the suite's Tuesday 2026-11-24: Monday 16th to Sunday 22nd.
LAST_WEEK = DateRange(date(2026, 11, 16), date(2026, 11, 22))
HOUR = 3600


def local(day: date, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone).astimezone(UTC)


def add(
    database: Database,
    centre: Centre,
    starts: datetime,
    ends: datetime,
    status: BookingStatus,
    *,
    seat: int | None = 0,
    room: int | None = None,
    finished: datetime | None = None,
    resident: int = 0,
) -> None:
    """One booking as the jobs would have left it; ``seat`` is an index into the centre's
    seats, or None for a room booking of ``room``."""
    used = status in (BookingStatus.COMPLETED, BookingStatus.CHECKED_IN, BookingStatus.RELEASED)
    with database.write() as session:
        session.add(
            Booking(
                site_id=centre.site_id,
                space_id=centre.study_id if seat is not None else (room or centre.dance_id),
                seat_id=centre.seats[seat] if seat is not None else None,
                resident_id=centre.residents[resident],
                status=status,
                starts_at=starts,
                ends_at=ends,
                created_at=starts - timedelta(days=1),
                checked_in_at=starts if used else None,
                finished_at=finished if finished is not None else (ends if used else None),
            )
        )


def occupancy(database: Database, centre: Centre, within: DateRange) -> insights.SeatOccupancy:
    with database.read() as session:
        return insights.seat_occupancy(session, site_id=centre.site_id, within=within)


def used_cells(found: insights.SeatOccupancy) -> dict[tuple[int, int], int]:
    return {key: cell.used_seconds for key, cell in found.cells.items() if cell.used_seconds}


# --- seat occupancy ------------------------------------------------------------------------------


def test_a_used_seat_counts_in_each_local_hour_it_covers(
    any_database: Database, centre: Centre
) -> None:
    tuesday = date(2026, 11, 17)
    add(any_database, centre, local(tuesday, 10), local(tuesday, 12, 30), BookingStatus.COMPLETED)

    found = occupancy(any_database, centre, LAST_WEEK)

    assert used_cells(found) == {(TUE, 10): HOUR, (TUE, 11): HOUR, (TUE, 12): HOUR // 2}
    # Four seats, one Tuesday in the range: a whole seat-hour is a quarter of the capacity.
    assert found.seats == 4
    assert found.cell(TUE, 10).capacity_seconds == 4 * HOUR
    assert found.cell(TUE, 10).rate == pytest.approx(0.25)
    assert found.cell(TUE, 12).rate == pytest.approx(0.125)


def test_occupancy_buckets_by_local_weekday_across_midnight_utc(
    any_database: Database, centre: Centre
) -> None:
    # Wednesday 07:30–09:00 in Shanghai is Tuesday 23:30 to Wednesday 01:00 in UTC.
    wednesday = date(2026, 11, 18)
    starts = local(wednesday, 7, 30)
    assert starts.date() == date(2026, 11, 17)
    add(any_database, centre, starts, local(wednesday, 9), BookingStatus.COMPLETED)

    found = occupancy(any_database, centre, LAST_WEEK)

    assert used_cells(found) == {(WED, 7): HOUR // 2, (WED, 8): HOUR}
    assert found.first_hour == 7  # drawn even though the centre opens at 8


def test_leaving_early_ends_the_occupancy_then(any_database: Database, centre: Centre) -> None:
    monday = date(2026, 11, 16)
    add(
        any_database,
        centre,
        local(monday, 14),
        local(monday, 17),
        BookingStatus.COMPLETED,
        finished=local(monday, 15, 15),
    )

    assert used_cells(occupancy(any_database, centre, LAST_WEEK)) == {
        (MON, 14): HOUR,
        (MON, 15): 15 * 60,
    }


def test_no_shows_and_cancelled_bookings_leave_the_seat_empty(
    any_database: Database, centre: Centre
) -> None:
    monday = date(2026, 11, 16)
    add(any_database, centre, local(monday, 9), local(monday, 10), BookingStatus.NO_SHOW)
    add(any_database, centre, local(monday, 9), local(monday, 10), BookingStatus.CANCELLED, seat=1)

    found = occupancy(any_database, centre, LAST_WEEK)

    assert used_cells(found) == {}
    assert found.is_empty


def test_occupancy_counts_only_the_part_inside_the_range(
    any_database: Database, centre: Centre
) -> None:
    # Sunday 22nd 20:00 to Monday 23rd 01:00 local (a late staff-extended booking).
    sunday = date(2026, 11, 22)
    add(
        any_database,
        centre,
        local(sunday, 20),
        local(sunday + timedelta(days=1), 1),
        BookingStatus.COMPLETED,
    )
    add(
        any_database,
        centre,
        local(date(2026, 11, 15), 10),
        local(date(2026, 11, 15), 11),
        BookingStatus.COMPLETED,
        seat=1,
    )

    assert used_cells(occupancy(any_database, centre, LAST_WEEK)) == {
        (6, 20): HOUR,
        (6, 21): HOUR,
        (6, 22): HOUR,
        (6, 23): HOUR,
    }


def test_two_weeks_double_the_capacity_of_each_weekday_hour(
    any_database: Database, centre: Centre
) -> None:
    for tuesday in (date(2026, 11, 10), date(2026, 11, 17)):
        add(any_database, centre, local(tuesday, 10), local(tuesday, 11), BookingStatus.COMPLETED)

    found = occupancy(any_database, centre, DateRange(date(2026, 11, 9), date(2026, 11, 22)))

    assert found.cell(TUE, 10).used_seconds == 2 * HOUR
    assert found.cell(TUE, 10).capacity_seconds == 2 * 4 * HOUR
    assert found.cell(TUE, 10).rate == pytest.approx(0.25)


def test_occupancy_follows_daylight_saving_changes_of_the_site_zone(
    any_database: Database, centre: Centre
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    with any_database.write() as session:
        site = session.get(Site, centre.site_id)
        assert site is not None
        site.timezone = "Europe/Berlin"
    # Summer time ends on Sunday 2026-10-25: 10:00 is 08:00 UTC before and 09:00 UTC after.
    saturday, monday = date(2026, 10, 24), date(2026, 10, 26)
    for day in (saturday, monday):
        add(
            any_database,
            centre,
            local(day, 10, zone=berlin),
            local(day, 11, zone=berlin),
            BookingStatus.COMPLETED,
        )

    found = occupancy(any_database, centre, DateRange(date(2026, 10, 19), date(2026, 11, 1)))

    assert used_cells(found) == {(5, 10): HOUR, (MON, 10): HOUR}


# --- room bookings per week ----------------------------------------------------------------------


def test_room_bookings_are_counted_per_local_week_and_room(
    any_database: Database, centre: Centre
) -> None:
    # Monday 16th 00:30 in Shanghai is still Sunday 15th in UTC: it belongs to the week of the 16th.
    early_monday = local(date(2026, 11, 16), 0, 30)
    assert early_monday.date() == date(2026, 11, 15)
    add(
        any_database,
        centre,
        early_monday,
        early_monday + timedelta(hours=1),
        BookingStatus.COMPLETED,
        seat=None,
    )
    add(
        any_database,
        centre,
        local(date(2026, 11, 18), 14),
        local(date(2026, 11, 18), 16),
        BookingStatus.COMPLETED,
        seat=None,
        room=centre.meeting_id,
    )
    add(
        any_database,
        centre,
        local(date(2026, 11, 10), 14),
        local(date(2026, 11, 10), 16),
        BookingStatus.NO_SHOW,
        seat=None,
    )
    # Never held the room:
    for status in (BookingStatus.CANCELLED, BookingStatus.REJECTED, BookingStatus.PENDING):
        add(
            any_database,
            centre,
            local(date(2026, 11, 19), 9),
            local(date(2026, 11, 19), 10),
            status,
            seat=None,
        )
    # A seat booking is not a room booking:
    add(
        any_database,
        centre,
        local(date(2026, 11, 19), 9),
        local(date(2026, 11, 19), 10),
        BookingStatus.COMPLETED,
    )

    with any_database.read() as session:
        found = insights.room_bookings_per_week(
            session, site_id=centre.site_id, within=DateRange(date(2026, 11, 2), date(2026, 11, 22))
        )

    nov2, nov9, nov16 = date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)
    assert found.weeks == [nov2, nov9, nov16]
    assert [room.id for room in found.rooms] == [centre.dance_id, centre.meeting_id]
    assert found.counts == {
        (nov9, centre.dance_id): 1,
        (nov16, centre.dance_id): 1,
        (nov16, centre.meeting_id): 1,
    }
    assert [found.week_total(week) for week in found.weeks] == [0, 1, 2]


# --- no-shows per week ---------------------------------------------------------------------------


def test_no_show_rate_is_no_shows_over_seat_bookings_with_a_known_outcome(
    any_database: Database, centre: Centre
) -> None:
    day = date(2026, 11, 17)
    for seat, status in enumerate(
        (
            BookingStatus.COMPLETED,
            BookingStatus.COMPLETED,
            BookingStatus.RELEASED,
            BookingStatus.NO_SHOW,
        )
    ):
        add(any_database, centre, local(day, 10), local(day, 11), status, seat=seat)
    add(any_database, centre, local(day, 14), local(day, 15), BookingStatus.CANCELLED)
    add(any_database, centre, local(day, 14), local(day, 15), BookingStatus.NO_SHOW, seat=None)
    # Sunday 23:30 local is Sunday in Shanghai but still that week, though Sunday 15:30 UTC.
    add(
        any_database,
        centre,
        local(date(2026, 11, 22), 23, 30),
        local(date(2026, 11, 22), 23, 45),
        BookingStatus.NO_SHOW,
        seat=1,
    )

    with any_database.read() as session:
        weeks = insights.no_show_rate_per_week(
            session, site_id=centre.site_id, within=DateRange(date(2026, 11, 9), date(2026, 11, 22))
        )

    assert [(w.week, w.decided, w.no_shows) for w in weeks] == [
        (date(2026, 11, 9), 0, 0),
        (date(2026, 11, 16), 5, 2),
    ]
    assert weeks[0].rate is None
    assert weeks[1].rate == pytest.approx(0.4)


def test_insights_of_one_site_ignore_other_sites(any_database: Database, centre: Centre) -> None:
    day = date(2026, 11, 17)
    add(any_database, centre, local(day, 10), local(day, 11), BookingStatus.NO_SHOW)
    with any_database.write() as session:
        other = Site(slug="other", name_zh="别处", name_en="Elsewhere")
        session.add(other)
        session.flush()
        other_id = other.id
    with any_database.read() as session:
        weeks = insights.no_show_rate_per_week(session, site_id=other_id, within=LAST_WEEK)
        rooms = insights.room_bookings_per_week(session, site_id=other_id, within=LAST_WEEK)
        seats = insights.seat_occupancy(session, site_id=other_id, within=LAST_WEEK)
    assert [(w.decided, w.no_shows) for w in weeks] == [(0, 0)]
    assert rooms.rooms == [] and rooms.is_empty
    assert seats.seats == 0 and seats.is_empty


# --- loans per tool type -------------------------------------------------------------------------


def test_loans_are_counted_per_tool_type_with_how_many_went_overdue(
    any_database: Database, centre: Centre
) -> None:
    with any_database.write() as session:
        drill, ladder, cart = (
            ToolType(site_id=centre.site_id, code=code, name_zh=zh, name_en=code)
            for code, zh in (("drill", "电钻"), ("ladder", "折叠梯"), ("cart", "拖板车"))
        )
        session.add_all([drill, ladder, cart])
        session.flush()
        items = {}
        for tool in (drill, ladder):
            items[tool.code] = Item(
                site_id=centre.site_id, tool_type_id=tool.id, asset_tag=f"T-{tool.code}"
            )
            session.add(items[tool.code])
        session.flush()

        def loan(tool: ToolType, day: date, *, overdue: bool, returned: bool = True) -> Loan:
            starts = local(day, 10)
            return Loan(
                site_id=centre.site_id,
                item_id=items[tool.code].id,
                tool_type_id=tool.id,
                resident_id=centre.residents[0],
                channel=LoanChannel.LOCKER,
                status=LoanStatus.RETURNED if returned else LoanStatus.OVERDUE,
                started_at=starts,
                due_at=starts + timedelta(days=3),
                returned_at=starts + timedelta(days=5 if overdue else 2) if returned else None,
                overdue_since=starts + timedelta(days=3) if overdue else None,
            )

        session.add_all(
            [
                loan(drill, date(2026, 11, 2), overdue=False),
                loan(drill, date(2026, 11, 9), overdue=True),
                loan(drill, date(2026, 11, 16), overdue=True, returned=False),
                loan(drill, date(2026, 11, 20), overdue=False),
                loan(ladder, date(2026, 11, 17), overdue=False),
                # Before the range: not counted.
                loan(ladder, date(2026, 10, 20), overdue=True),
            ]
        )

    with any_database.read() as session:
        found = insights.loans_per_tool_type(
            session, site_id=centre.site_id, within=DateRange(date(2026, 11, 1), date(2026, 11, 22))
        )

    assert [(t.name_zh, t.loans, t.overdue) for t in found] == [
        ("电钻", 4, 2),
        ("折叠梯", 1, 0),
        ("拖板车", 0, 0),
    ]
    assert [t.overdue_rate for t in found] == [0.5, 0.0, None]


# --- blood-pressure alerts per week ----------------------------------------------------------------


def test_blood_pressure_alerts_are_counted_per_local_week_and_kind(
    any_database: Database, centre: Centre
) -> None:
    def alert(kind: str, at: datetime) -> StaffAlert:
        return StaffAlert(
            site_id=centre.site_id,
            kind=kind,
            severity=AlertSeverity.URGENT,
            summary="Blood pressure measured",
            created_at=at,
        )

    with any_database.write() as session:
        session.add_all(
            [
                alert("bp.urgent", local(date(2026, 11, 10), 9)),
                # Monday 16th 07:00 in Shanghai is Sunday 15th 23:00 in UTC.
                alert("bp.urgent", local(date(2026, 11, 16), 7)),
                alert("bp.follow_up", local(date(2026, 11, 18), 15)),
                alert("bp.follow_up", local(date(2026, 11, 22), 20)),
                alert("locker.door_left_open", local(date(2026, 11, 18), 15)),
            ]
        )

    with any_database.read() as session:
        weeks = insights.bp_alerts_per_week(
            session, site_id=centre.site_id, within=DateRange(date(2026, 11, 9), date(2026, 11, 22))
        )

    assert [(w.week, w.urgent, w.follow_up) for w in weeks] == [
        (date(2026, 11, 9), 1, 0),
        (date(2026, 11, 16), 1, 2),
    ]


# --- the date range ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 11, 22), date(2026, 11, 21)),
        (date(2025, 1, 1), date(2026, 1, 2)),
    ],
    ids=["ends-before-it-starts", "longer-than-a-year"],
)
def test_a_date_range_must_be_in_order_and_at_most_a_year(first: date, last: date) -> None:
    with pytest.raises(InvalidInput):
        DateRange(first, last)


def test_a_date_range_touches_every_week_from_its_first_monday() -> None:
    within = DateRange(date(2026, 11, 4), date(2026, 11, 16))
    assert within.weeks() == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    # On Tuesday the 24th, two weeks back start on Monday the 16th.
    assert DateRange.recent_weeks(date(2026, 11, 24), 2) == DateRange(
        date(2026, 11, 16), date(2026, 11, 24)
    )
