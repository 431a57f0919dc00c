"""Two consoles on the same inbox, in real Chromium: what one colleague does to an alert shows
on the other's open page without a reload (taken on: redrawn; resolved: gone)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity
from booking.core.models.sites import Site
from kiosk.extensions import database
from tests.browser.conftest import LANDSCAPE, LiveServer, PageProblems, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def viewport() -> dict[str, int]:
    return LANDSCAPE


@pytest.fixture
def colleague(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A second browser of its own (own cookies), for the admin at the other desk."""
    live_server.app.config.update(STAFF_ALERT_POLL_SECONDS=0.2)
    context = browser.new_context(base_url=live_server.url, viewport=LANDSCAPE, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/staff/sign-in")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()


def raise_door_alert(live_server: LiveServer, compartment: int) -> int:
    with live_server.app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        return alerts.raise_alert(
            session,
            site_id=site.id,
            kind="locker.door_left_open",
            severity=AlertSeverity.WARNING,
            summary=f"locker-a: compartment {compartment} left open",
            now=live_server.clock.now(),
            subject="device:locker-a",
            dedupe_key=f"door:{compartment}",
        ).id


def test_a_colleague_taking_on_and_resolving_alerts_updates_the_other_inbox(
    page: Page, colleague: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    taken = raise_door_alert(live_server, 1)
    resolved = raise_door_alert(live_server, 2)
    sign_in(page, "zhao", "linli-staff-2026")
    sign_in(colleague, "admin", "linli-admin-2026")
    page.goto("/staff/alerts")
    colleague.goto("/staff/alerts")
    expect(page.locator("#alert-live")).to_have_text("新警报会自动出现在这里。")
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator(".alert-item")).to_have_count(2)

    colleague.locator(f"#alert-{taken} .alert-form button").first.click()
    mine = page.locator(f"#alert-{taken}")
    expect(mine.locator(".alert-status")).to_have_text("已有人处理", timeout=15_000)
    expect(mine.locator("button", has_text="我来处理")).to_have_count(0)

    colleague.locator(f"#alert-{resolved} textarea[name=note]").last.fill("门已关好")
    colleague.locator(f"#alert-{resolved} button.primary").click()
    expect(page.locator(f"#alert-{resolved}")).to_have_count(0, timeout=15_000)
    expect(page.locator(".alert-item")).to_have_count(1)
    expect(page.locator("#alert-live")).to_contain_text("智能柜门未关")
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "console-alerts-colleague-acted")
    assert page_problems.messages == []
