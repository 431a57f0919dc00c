"""The district overview in real Chromium at a desk screen (1366×768), in Chinese: today's
figures as bars with their numbers, the weekly trends as small charts per centre."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from booking.demo import past_bookings
from kiosk.extensions import database
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.test_console_sizes_in_browser import MEASURE, too_small
from tests.district_centres import (
    DISTRICT_ADMIN,
    DISTRICT_PASSWORD,
    add_centres,
    add_district_admin,
)

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}


@pytest.fixture
def viewport() -> dict[str, int]:
    return DESK


@pytest.fixture
def district(live_server: LiveServer) -> None:
    """The demo centre with its past bookings, three more centres and a district admin."""
    now = live_server.clock.now()
    with live_server.app.app_context(), database().write() as session:
        past_bookings.seed_history(session, now=now)
        add_centres(session, now=now, count=3)
        add_district_admin(session, now=now)


def sign_in_as_district_admin(page: Page) -> None:
    page.goto("/staff/sign-in")
    page.locator("#username").fill(DISTRICT_ADMIN)
    page.locator("#password").fill(DISTRICT_PASSWORD)
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()


@pytest.mark.usefixtures("district")
def test_the_district_overview_shows_every_centre_in_pictures(
    page: Page, page_problems: PageProblems
) -> None:
    sign_in_as_district_admin(page)
    page.locator('.console-nav a[href="/staff/district"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    rows = page.locator("table.district-today tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.locator("svg.meter")).to_have_count(4 * 6)
    # The whole table fits the desk screen's width: nothing to scroll sideways for.
    table = page.locator("table.district-today").bounding_box()
    assert table is not None and table["x"] + table["width"] <= DESK["width"]
    # The busiest centre's loans fill their bar; an empty one draws no bar at all.
    c002_loans = page.locator('tr[data-centre="c002"] td[data-figure="loans"] svg.meter rect')
    expect(c002_loans).to_have_count(3)  # the track, the loans in time, the overdue ones
    expect(page.locator('tr[data-centre="xinhua"] td[data-figure="loans"] svg rect')).to_have_count(
        1
    )
    screenshot(page, "district-01-today")
    # Read at arm's length like the rest of the console: 16 px text, 24 px targets, no
    # sideways scrolling.
    assert too_small(page.evaluate(MEASURE)) == {"text": [], "targets": []}
    assert page.evaluate("document.documentElement.scrollWidth") <= DESK["width"]

    trends = page.locator("section[data-trend=seats]")
    trends.scroll_into_view_if_needed()
    panels = trends.locator("ul.small-multiples > li")
    expect(panels).to_have_count(4)
    # Side by side at this width, each drawn at a readable size.
    first, second = (panels.nth(n).bounding_box() for n in (0, 1))
    assert first is not None and second is not None
    assert second["x"] > first["x"] and abs(second["y"] - first["y"]) < 1
    chart = trends.locator("svg.chart").first.bounding_box()
    assert chart is not None and chart["width"] >= 200
    expect(trends.locator("svg.chart").nth(3).locator("g.bar")).to_have_count(8)
    screenshot(page, "district-02-trends")

    page.locator("#weeks").select_option("12")
    page.locator(".district-weeks button[type=submit]").click()
    expect(
        page.locator("section[data-trend=loans] svg.chart").first.locator("g.bar")
    ).to_have_count(12)
    assert page_problems.messages == []


@pytest.mark.usefixtures("district")
def test_a_centre_admin_is_told_the_district_is_not_theirs(page: Page) -> None:
    page.goto("/staff/sign-in")
    page.locator("#username").fill("admin")
    page.locator("#password").fill("linli-admin-2026")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()
    expect(page.locator('.console-nav a[href="/staff/district"]')).to_have_count(0)

    response = page.goto("/staff/district")

    assert response is not None and response.status == 403
    expect(page.locator("[data-refused=district]")).to_be_visible()
    screenshot(page, "district-03-refused")
