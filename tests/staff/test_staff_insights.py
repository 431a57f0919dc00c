"""The console's insights page: charts for a date range, their numbers, and a CSV of each."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.alerts.models.alerts import AlertSeverity, StaffAlert
from booking.core import sites
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people.models.residents import Resident
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.extensions import database
from tests.conftest import StaffActions

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The suite's clock is Tuesday 2026-11-24; this is the Tuesday before.
LAST_TUESDAY = date(2026, 11, 17)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def signed_in(demo: None, staff_auth: StaffActions) -> None:
    assert staff_auth.sign_in().status_code == 302


@pytest.fixture
def history(app: Flask, demo: None) -> None:
    """Last Tuesday: a used seat 10:00–11:00, a no-show, one dance-room class, an overdue
    drill loan and an urgent blood-pressure alert."""
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        resident = session.scalar(select(Resident).where(Resident.name == "王秀英"))
        assert resident is not None
        study = session.scalar(select(Space).where(Space.kind == SpaceKind.STUDY))
        dance = session.scalar(select(Space).where(Space.code == "dance"))
        assert study is not None and dance is not None
        seats = session.scalars(select(Seat).where(Seat.space_id == study.id)).all()
        common = {
            "site_id": site.id,
            "resident_id": resident.id,
            "created_at": local(LAST_TUESDAY, 8),
        }
        session.add_all(
            [
                Booking(
                    space_id=study.id,
                    seat_id=seats[0].id,
                    status=BookingStatus.COMPLETED,
                    starts_at=local(LAST_TUESDAY, 10),
                    ends_at=local(LAST_TUESDAY, 11),
                    checked_in_at=local(LAST_TUESDAY, 10),
                    finished_at=local(LAST_TUESDAY, 11),
                    **common,
                ),
                Booking(
                    space_id=study.id,
                    seat_id=seats[1].id,
                    status=BookingStatus.NO_SHOW,
                    starts_at=local(LAST_TUESDAY, 14),
                    ends_at=local(LAST_TUESDAY, 15),
                    **common,
                ),
                Booking(
                    space_id=dance.id,
                    status=BookingStatus.COMPLETED,
                    starts_at=local(LAST_TUESDAY, 9),
                    ends_at=local(LAST_TUESDAY, 10),
                    **common,
                ),
            ]
        )
        drill = session.scalar(select(Item).join(ToolType).where(ToolType.code == "drill"))
        assert drill is not None
        session.add(
            Loan(
                site_id=site.id,
                item_id=drill.id,
                tool_type_id=drill.tool_type_id,
                resident_id=resident.id,
                channel=LoanChannel.COUNTER,
                status=LoanStatus.RETURNED,
                started_at=local(LAST_TUESDAY, 9),
                due_at=local(LAST_TUESDAY + timedelta(days=3), 9),
                returned_at=local(LAST_TUESDAY + timedelta(days=4), 9),
                overdue_since=local(LAST_TUESDAY + timedelta(days=3), 9),
            )
        )
        session.add(
            StaffAlert(
                site_id=site.id,
                kind="bp.urgent",
                severity=AlertSeverity.URGENT,
                summary="Blood pressure measured",
                created_at=local(LAST_TUESDAY, 11),
            )
        )


def csv_rows(response: object) -> list[list[str]]:
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


# --- the page -----------------------------------------------------------------------------------


def test_insights_need_a_signed_in_staff_member(client: FlaskClient, demo: None) -> None:
    response = client.get("/staff/insights")
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]
    assert client.get("/staff/insights/rooms.csv").status_code == 302


@pytest.mark.usefixtures("signed_in")
def test_the_nav_leads_to_insights(client: FlaskClient) -> None:
    page = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/insights"' in page
    assert "数据洞察" in page


@pytest.mark.usefixtures("signed_in", "history")
def test_the_page_draws_every_chart_as_accessible_svg(client: FlaskClient) -> None:
    response = client.get("/staff/insights")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    for chart in ("occupancy", "rooms", "no-shows", "loans", "bp-alerts"):
        assert f'data-chart="{chart}"' in page
        svg = re.search(rf'<svg [^>]*id="chart-{chart}"[^>]*>(.*?)</svg>', page, re.S)
        assert svg, chart
        assert 'role="img"' in svg.group(0) and "aria-labelledby" in svg.group(0)
        assert f'<title id="chart-{chart}-title">' in svg.group(1)
        assert f'href="/staff/insights/{chart}.csv?start=2026-10-05&amp;end=2026-11-24"' in page
    # Chinese first: the default language labels the charts in Chinese.
    assert "自习座位使用率" in page


@pytest.mark.usefixtures("signed_in", "history")
def test_each_number_is_written_on_the_chart_not_only_coloured(client: FlaskClient) -> None:
    page = client.get("/staff/insights?start=2026-11-16&end=2026-11-22").get_data(as_text=True)
    # One of 24 seats for the hour from 10:00 on Tuesday: 4%.
    occupancy = re.search(r'id="chart-occupancy".*?</svg>', page, re.S)
    assert occupancy and "周二 10:00–11:00：4%" in occupancy.group(0)
    no_shows = re.search(r'id="chart-no-shows".*?</svg>', page, re.S)
    assert no_shows and ">50%<" in no_shows.group(0) and ">1/2<" in no_shows.group(0)


@pytest.mark.usefixtures("signed_in")
def test_an_empty_range_says_there_is_no_data(client: FlaskClient) -> None:
    page = client.get("/staff/insights").get_data(as_text=True)
    assert page.count("此范围内还没有数据") == 5


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-01"}, "请按 YYYY-MM-DD 输入日期"),
        ({"start": "yesterday"}, "请按 YYYY-MM-DD 输入日期"),
        ({"start": "2026-11-20", "end": "2026-11-01"}, "结束日期早于开始日期"),
        ({"start": "2024-01-01", "end": "2026-11-01"}, "366"),
    ],
)
def test_a_bad_range_is_refused_with_a_message(
    client: FlaskClient, query: dict[str, str], message: str
) -> None:
    response = client.get("/staff/insights", query_string=query)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get("/staff/insights/rooms.csv", query_string=query).status_code == 400


# --- CSV ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("signed_in", "history")
def test_the_room_csv_has_a_bom_and_one_row_per_week_and_room(client: FlaskClient) -> None:
    response = client.get("/staff/insights/rooms.csv?start=2026-11-16&end=2026-11-22")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="linli-rooms-2026-11-16-2026-11-22.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == ["周开始日期", "活动室", "预约数"]
    assert ["2026-11-16", "舞蹈室", "1"] in rows
    assert ["2026-11-16", "书画室", "0"] in rows
    assert len(rows) == 1 + 4  # one week, four activity rooms


@pytest.mark.usefixtures("signed_in", "history")
def test_the_no_show_csv_gives_counts_and_rate(client: FlaskClient) -> None:
    rows = csv_rows(client.get("/staff/insights/no-shows.csv?start=2026-11-16&end=2026-11-22"))
    assert rows == [
        ["周开始日期", "座位预约", "爽约", "爽约率 %"],
        ["2026-11-16", "2", "1", "50.0"],
    ]


@pytest.mark.usefixtures("signed_in", "history")
def test_the_occupancy_csv_has_a_row_per_weekday_and_hour(client: FlaskClient) -> None:
    rows = csv_rows(client.get("/staff/insights/occupancy.csv?start=2026-11-16&end=2026-11-22"))
    # The demo centre opens 08:00–21:00: 13 hours on 7 weekdays.
    assert len(rows) == 1 + 7 * 13
    assert ["周二", "10:00", "1.0", "24.0", "4.2"] in rows


@pytest.mark.usefixtures("signed_in", "history")
def test_the_loans_csv_gives_each_tool_type_its_loans_and_overdue_rate(
    client: FlaskClient,
) -> None:
    rows = csv_rows(client.get("/staff/insights/loans.csv?start=2026-11-16&end=2026-11-22"))
    assert rows[0] == ["工具类型", "借出次数", "曾逾期", "逾期率 %"]
    assert ["电钻", "1", "1", "100.0"] in rows
    assert ["折叠梯", "0", "0", ""] in rows


@pytest.mark.usefixtures("signed_in", "history")
def test_the_blood_pressure_alerts_csv_counts_alerts_per_week(client: FlaskClient) -> None:
    rows = csv_rows(client.get("/staff/insights/bp-alerts.csv?start=2026-11-16&end=2026-11-22"))
    assert rows == [["周开始日期", "紧急", "上门随访", "提醒数"], ["2026-11-16", "1", "0", "1"]]


@pytest.mark.usefixtures("signed_in")
def test_csv_cells_that_look_like_formulas_are_made_text(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), database().write() as session:
        dance = session.scalar(select(Space).where(Space.code == "dance"))
        assert dance is not None
        dance.name_zh = "=1+1"
    rows = csv_rows(client.get("/staff/insights/rooms.csv?start=2026-11-16&end=2026-11-22"))
    assert ["2026-11-16", "'=1+1", "0"] in rows


@pytest.mark.usefixtures("signed_in")
def test_an_unknown_chart_has_no_csv(client: FlaskClient) -> None:
    assert client.get("/staff/insights/salaries.csv").status_code == 404


def test_the_default_range_is_this_week_and_the_seven_before(
    client: FlaskClient, signed_in: None
) -> None:
    page = client.get("/staff/insights").get_data(as_text=True)
    # Tuesday 2026-11-24: from Monday 2026-10-05, so eight weeks with this one.
    assert 'value="2026-10-05"' in page and 'value="2026-11-24"' in page
    # Eight weeks on each weekly chart, and the demo's seven tool types.
    assert page.count('<g class="bar">') == 3 * 8 + 7


@pytest.mark.usefixtures("signed_in", "history")
def test_in_english_the_charts_are_labelled_in_english(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    client.post(
        "/staff/language",
        data={"locale": "en", "next": "/staff/", "csrf_token": staff_auth.csrf_token()},
    )
    page = client.get("/staff/insights?start=2026-11-16&end=2026-11-22").get_data(as_text=True)
    assert "Study-seat occupancy by weekday and hour" in page
    assert "Tue 10:00–11:00: 4% occupied" in page
    assert "Dance room" in page and "Electric drill" in page
