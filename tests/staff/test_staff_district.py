"""The console's district overview: every centre side by side for district admins, refused to
everyone else, its tables also as CSVs that Excel opens in Chinese.

The demo centre (xinhua) and three more (c000, c001, c002, see tests/district_centres.py);
the clock is Tuesday 2026-11-24 09:30 in Shanghai."""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.core.clock import FrozenClock
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions
from tests.district_centres import (
    DISTRICT_ADMIN,
    DISTRICT_PASSWORD,
    add_centres,
    add_district_admin,
)


@pytest.fixture
def district(app: Flask, clock: FrozenClock, demo: None) -> None:
    with app.app_context(), database().write() as session:
        add_centres(session, now=clock.now(), count=3)
        add_district_admin(session, now=clock.now())


@pytest.fixture
def district_admin(district: None, staff_auth: StaffActions) -> None:
    assert staff_auth.sign_in(DISTRICT_ADMIN, DISTRICT_PASSWORD).status_code == 302


def in_english(client: FlaskClient, staff_auth: StaffActions) -> None:
    client.post(
        "/staff/language",
        data={"locale": "en", "next": "/staff/", "csrf_token": staff_auth.csrf_token()},
    )


def figure(page: str, centre: str, name: str) -> str:
    """The number written in one cell of today's table."""
    row = re.search(rf'<tr data-centre="{centre}">(.*?)</tr>', page, re.S)
    assert row, centre
    cell = re.search(
        rf'data-figure="{name}"[^>]*>\s*<span class="figure-number">([^<]*)</span>', row.group(1)
    )
    assert cell, (centre, name)
    return cell.group(1)


def csv_rows(response: object) -> list[list[str]]:
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


# --- who may see it ------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "password"), [("zhao", None), ("admin", ADMIN_PASSWORD)])
def test_staff_and_centre_admins_are_refused_with_a_clear_message(
    client: FlaskClient, staff_auth: StaffActions, district: None, username: str, password: str
) -> None:
    if password is None:
        assert staff_auth.sign_in(username).status_code == 302
    else:
        assert staff_auth.sign_in(username, password).status_code == 302
    in_english(client, staff_auth)

    response = client.get("/staff/district")

    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Only district administrators can see the district overview." in page
    assert 'href="/staff/district"' not in page  # nor is it offered in the nav
    assert 'data-centre="c000"' not in page
    for table in ("today", "loans"):
        refused = client.get(f"/staff/district/{table}.csv")
        assert refused.status_code == 403
        assert "c000" not in refused.get_data(as_text=True)
    assert 'href="/staff/district"' not in client.get("/staff/").get_data(as_text=True)


def test_signed_out_the_district_leads_to_sign_in(client: FlaskClient, district: None) -> None:
    response = client.get("/staff/district")
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]


@pytest.mark.usefixtures("district_admin")
def test_a_district_admin_finds_it_in_the_nav(client: FlaskClient) -> None:
    page = client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/district"' in page


# --- today's figures -----------------------------------------------------------------------------


@pytest.mark.usefixtures("district_admin")
def test_every_centre_is_shown_side_by_side_with_todays_figures(client: FlaskClient) -> None:
    response = client.get("/staff/district")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.findall(r'<tr data-centre="([^"]+)">', page) == ["c000", "c001", "c002", "xinhua"]
    # c001: one of 6 seats in use, one of two rooms booked, 1 + 1 loans out of which 1 overdue,
    # an urgent alert and a follow-up open, one of two lockers offline, one follow-up waiting.
    assert figure(page, "c001", "seats") == "1 / 6"
    assert figure(page, "c001", "rooms") == "1 / 2"
    assert figure(page, "c001", "loans") == "2"
    assert figure(page, "c001", "alerts") == "2"
    assert figure(page, "c001", "devices") == "1 / 2"
    assert figure(page, "c001", "follow-ups") == "1"
    assert figure(page, "c002", "loans") == "3"
    assert figure(page, "c000", "devices") == "0 / 2"
    # The demo centre has its 24 seats and four rooms, and nothing of the rest.
    assert figure(page, "xinhua", "seats") == "0 / 24"
    assert figure(page, "xinhua", "rooms") == "0 / 4"
    assert figure(page, "xinhua", "devices") == "0 / 0"
    # The district's totals above the table.
    assert re.search(r'data-total="seats">3 / 42<', page)
    assert re.search(r'data-total="loans">6 ', page)
    assert re.search(r'data-total="devices">1 / 6<', page)
    assert re.search(r'data-total="follow-ups">3<', page)
    # Pictures with their numbers: a bar beside every figure, and the words beside the bars.
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="meter"') == 4 * 6


@pytest.mark.usefixtures("district_admin")
def test_the_todays_csv_has_a_bom_and_a_line_per_centre(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    in_english(client, staff_auth)
    response = client.get("/staff/district/today.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="linli-district-today-2026-11-24.csv"'
    )
    rows = csv_rows(response)
    assert rows[0][:5] == ["Centre code", "Centre", "Local date", "Number of study seats",
                           "Seats in use now"]  # fmt: skip
    assert [r[0] for r in rows[1:]] == ["c000", "c001", "c002", "xinhua"]
    c001 = dict(zip(rows[0], rows[2], strict=True))
    assert c001 == {
        "Centre code": "c001", "Centre": "Town 1 Centre", "Local date": "2026-11-24",
        "Number of study seats": "6", "Seats in use now": "1", "Seat bookings today": "1",
        "Seat bookings checked in": "1", "Number of activity rooms": "2",
        "Rooms booked today": "1", "Room bookings today": "1", "Loans out": "2",
        "Loans overdue": "1", "Open alerts": "2", "Urgent alerts": "1", "Devices": "2",
        "Devices offline": "1", "Blood-pressure follow-ups waiting": "1",
    }  # fmt: skip


@pytest.mark.usefixtures("district_admin")
def test_centre_names_are_in_chinese_first(client: FlaskClient) -> None:
    rows = csv_rows(client.get("/staff/district/today.csv"))
    assert rows[1][1] == "安亭社区中心"


# --- weekly trends -------------------------------------------------------------------------------


@pytest.mark.usefixtures("district_admin")
def test_each_trend_compares_the_centres_on_one_scale(client: FlaskClient) -> None:
    page = client.get("/staff/district").get_data(as_text=True)

    for trend in ("seats", "rooms", "loans", "alerts", "bp-follow-ups"):
        assert f'data-trend="{trend}"' in page
        section = re.search(rf'data-trend="{trend}".*?</section>', page, re.S)
        assert section, trend
        # A small chart per centre, each an accessible SVG of 8 weekly bars.
        assert section.group(0).count('<li data-centre="') == 4
        svg = re.search(rf'<svg [^>]*id="trend-{trend}-c001"[^>]*>(.*?)</svg>', page, re.S)
        assert svg, trend
        assert 'role="img"' in svg.group(0)
        assert svg.group(1).count('<g class="bar">') == 8
        assert f'href="/staff/district/{trend}.csv?weeks=8"' in page
    # c001 used a seat last week and has one in use this week; it lent a tool (returned since)
    # and two that went overdue last week, and one this week.
    assert bar_numbers(page, "seats", "c001") == [0] * 6 + [1, 1]
    assert bar_numbers(page, "loans", "c002") == [0] * 6 + [3, 1]
    assert bar_numbers(page, "bp-follow-ups", "xinhua") == [0] * 8


def bar_numbers(page: str, trend: str, centre: str) -> list[int]:
    """The numbers written on a small chart's bars, oldest week first."""
    svg = re.search(rf'id="trend-{trend}-{centre}".*?</svg>', page, re.S)
    assert svg, (trend, centre)
    return [int(n) for n in re.findall(r'<g class="bar">.*?<text [^>]*>(\d+)</text>', svg.group(0))]


@pytest.mark.usefixtures("district_admin")
def test_a_trends_csv_has_a_line_per_week_and_centre(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    in_english(client, staff_auth)
    response = client.get("/staff/district/loans.csv?weeks=4")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="linli-district-loans-4-weeks-from-2026-11-02.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == ["Week starting", "Centre code", "Centre", "Loans"]
    assert len(rows) == 1 + 4 * 4
    counts = {(week, code): int(n) for week, code, _, n in rows[1:]}
    # c002: last week a returned loan and two that went overdue; this week one lent.
    assert counts[("2026-11-16", "c002")] == 3
    assert counts[("2026-11-23", "c002")] == 1
    assert counts[("2026-11-16", "xinhua")] == 0
    assert counts[("2026-11-02", "c000")] == 0


@pytest.mark.usefixtures("district_admin")
@pytest.mark.parametrize("weeks", ["3", "13", "abc", "8.5", "-8", str(2**70), "字" * 300])
def test_a_bad_number_of_weeks_is_refused_with_a_message(
    client: FlaskClient, staff_auth: StaffActions, weeks: str
) -> None:
    in_english(client, staff_auth)
    response = client.get("/staff/district", query_string={"weeks": weeks})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose how many weeks to show from the list." in page
    assert 'data-centre="c000"' in page  # today's figures still show
    download = client.get("/staff/district/alerts.csv", query_string={"weeks": weeks})
    assert download.status_code == 400
    assert "Choose how many weeks" in download.get_data(as_text=True)


@pytest.mark.usefixtures("district_admin")
def test_twelve_weeks_draw_twelve_bars(client: FlaskClient) -> None:
    page = client.get("/staff/district?weeks=12").get_data(as_text=True)
    svg = re.search(r'id="trend-alerts-c000".*?</svg>', page, re.S)
    assert svg and svg.group(0).count('<g class="bar">') == 12


@pytest.mark.usefixtures("district_admin")
def test_an_unknown_table_is_not_found(client: FlaskClient) -> None:
    assert client.get("/staff/district/nothing.csv").status_code == 404


# --- opening a centre's console ------------------------------------------------------------------


def test_each_centre_has_a_button_that_posts_its_slug_to_switch_site(
    app: Flask, client: FlaskClient, district: None, staff_auth: StaffActions
) -> None:
    assert staff_auth.sign_in(DISTRICT_ADMIN, DISTRICT_PASSWORD).status_code == 302

    page = client.get("/staff/district").get_data(as_text=True)

    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*data-switch="([^"]+)">(.*?)</form>',
                       page, re.S)  # fmt: skip
    assert [slug for _, slug, _ in forms] == ["c000", "c001", "c002", "xinhua"]
    for action, slug, body in forms:
        assert action == "/staff/site"
        assert re.search(r'<input [^>]*name="csrf_token"', body)
        assert re.search(rf'<input [^>]*name="site"[^>]*value="{slug}"', body) or re.search(
            rf'<input [^>]*value="{slug}"[^>]*name="site"', body
        )
    # Pressing one opens that centre's console.
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    opened = client.post("/staff/site", data={"csrf_token": token.group(1), "site": "c001"})
    assert opened.status_code in (302, 303)
    overview = client.get("/staff/").get_data(as_text=True)
    # The header's switcher lists the centre now open first, chosen.
    assert re.search(r'<option value="c001" selected>', overview)


@pytest.mark.usefixtures("district_admin")
def test_no_weeks_chosen_shows_eight(client: FlaskClient) -> None:
    page = client.get("/staff/district?weeks=").get_data(as_text=True)
    assert page.count('class="chart" id="trend-loans-') == 4
    assert 'href="/staff/district/loans.csv?weeks=8"' in page
