"""The console's insights page in real Chromium: its charts render as SVG with their numbers."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from booking.demo import past_bookings
from kiosk.extensions import database
from tests.browser.conftest import LANDSCAPE, LiveServer, PageProblems, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def viewport() -> dict[str, int]:
    return LANDSCAPE  # a desk screen, not the kiosk


@pytest.fixture
def history(live_server: LiveServer) -> None:
    with live_server.app.app_context(), database().write() as session:
        past_bookings.seed_history(session, now=live_server.clock.now())


def sign_in_as_staff(page: Page) -> None:
    page.goto("/staff/sign-in")
    page.locator("#username").fill("zhao")
    page.locator("#password").fill("linli-staff-2026")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()


@pytest.mark.usefixtures("history")
def test_the_insights_page_renders_its_charts(page: Page, page_problems: PageProblems) -> None:
    sign_in_as_staff(page)
    page.get_by_role("link", name="数据洞察").click()
    expect(page.locator("h1")).to_have_text("数据洞察")

    heatmap = page.locator("svg#chart-occupancy")
    expect(heatmap).to_be_visible()
    expect(heatmap.locator("g.cell")).to_have_count(7 * 13)  # weekdays × opening hours
    expect(heatmap.locator("g.legend rect")).to_have_count(5)
    assert heatmap.get_attribute("role") == "img"
    # The browser lays it out: the chart is drawn at a readable size, not collapsed.
    box = heatmap.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 250
    screenshot(page, "insights-01-occupancy")

    rooms = page.locator("svg#chart-rooms")
    rooms.scroll_into_view_if_needed()
    expect(rooms.locator("g.bar")).to_have_count(8)
    expect(rooms.locator("g.legend")).to_contain_text("舞蹈室")
    assert int(rooms.locator("g.bar text").nth(0).text_content() or "0") > 0
    screenshot(page, "insights-02-rooms")

    no_shows = page.locator("svg#chart-no-shows")
    no_shows.scroll_into_view_if_needed()
    expect(no_shows.locator("g.bar")).to_have_count(8)
    expect(no_shows).to_contain_text("%")
    screenshot(page, "insights-03-no-shows")

    loans = page.locator("svg#chart-loans")
    loans.scroll_into_view_if_needed()
    expect(loans.locator("g.bar")).to_have_count(7)  # the demo's tool types
    bp_alerts = page.locator("svg#chart-bp-alerts")
    bp_alerts.scroll_into_view_if_needed()
    expect(bp_alerts.locator("g.bar")).to_have_count(8)
    expect(bp_alerts.locator("g.legend")).to_contain_text("紧急")
    screenshot(page, "insights-04-loans-and-alerts")
    assert page_problems.messages == []


@pytest.mark.usefixtures("history")
def test_a_narrower_range_redraws_the_weekly_charts(page: Page) -> None:
    sign_in_as_staff(page)
    page.goto("/staff/insights")
    page.locator("#start").fill("2026-11-02")
    page.locator("#end").fill("2026-11-15")
    page.get_by_role("button", name="显示").click()
    expect(page.locator("svg#chart-rooms g.bar")).to_have_count(2)
    expect(page.locator("svg#chart-no-shows g.bar")).to_have_count(2)
    screenshot(page, "insights-05-two-weeks")


@pytest.mark.usefixtures("history")
def test_a_residents_page_shows_their_record_in_sections(page: Page) -> None:
    sign_in_as_staff(page)
    page.goto("/staff/residents?q=王秀英")
    page.get_by_role("link", name="王秀英").click()
    expect(page.locator("h1")).to_have_text("王秀英")
    for section in ("bookings", "strikes", "loans", "health"):
        expect(page.locator(f"section#{section} h2")).to_be_visible()
    expect(page.locator("section#strikes")).to_contain_text("可以预约自习座位。")
    screenshot(page, "resident-01-record")
