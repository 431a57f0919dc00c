"""The kiosk screen through a database outage, in a real browser: a calm page, Chinese first,
that gives way to the kiosk by itself once the database is back."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kiosk.outage import RETRY_AFTER_SECONDS
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.database_outage import DatabaseOutage

pytestmark = pytest.mark.browser


def test_the_kiosk_screen_waits_calmly_through_a_database_outage_and_comes_back_by_itself(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/kiosk/")
    expect(page.locator(".tile-title").first).to_have_text("借工具")
    outage = DatabaseOutage(live_server.app.config["DATABASE_URL"], "sqlite")
    outage.start()
    try:
        # SQLite gives up on the held locks after about ten seconds of its own retries.
        response = page.goto("/kiosk/", timeout=30_000)
        assert response is not None and response.status == 503
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        headings = page.locator(".outage-heading")
        expect(headings).to_have_text(["服务正在短暂休息", "The service is taking a short break"])
        # Large: the Chinese heading is the biggest text on the screen, English below it.
        chinese, english = headings.nth(0).bounding_box(), headings.nth(1).bounding_box()
        assert chinese is not None and english is not None
        assert chinese["y"] < english["y"]
        size = headings.nth(0).evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert size >= 60
        # Calm: no error red anywhere on the page.
        colours = page.evaluate(
            "() => [...document.querySelectorAll('*')].map(e => getComputedStyle(e).color)"
        )
        assert "rgb(107, 0, 0)" not in colours
        screenshot(page, "portrait-outage")
    finally:
        outage.end()

    # Nobody touches anything: the page reloads itself and the kiosk is back.
    expect(page.locator(".tile-title").first).to_have_text(
        "借工具", timeout=(RETRY_AFTER_SECONDS + 20) * 1000
    )
    assert page_problems.messages == []
