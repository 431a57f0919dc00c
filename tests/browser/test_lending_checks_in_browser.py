"""The console's locker checks in real Chromium, on a 1366×768 staff screen in Chinese: both
kinds of mismatch readable at a glance, one resolved with a note, and what became of it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.core.models.sites import Site
from booking.lending import operations as lending
from booking.lending import reconciliation as lending_reconciliation
from booking.lending.models.tools import Item, ItemStatus
from booking.lending.reconciliation import CompartmentReport
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from kiosk.extensions import database
from tests.browser.conftest import LiveServer, PageProblems, screenshot

pytestmark = pytest.mark.browser

STAFF_SCREEN = {"width": 1366, "height": 768}


@pytest.fixture
def viewport() -> dict[str, int]:
    return STAFF_SCREEN


def sign_in(page: Page) -> None:
    page.goto("/staff/sign-in")
    page.locator("#username").fill("zhao")
    page.locator("#password").fill("linli-staff-2026")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()


def disagree(live_server: LiveServer) -> None:
    """Drill 1 of locker-a is lent at the counter but reported in its compartment; drill 2
    is reported gone."""
    with live_server.app.app_context(), database().write() as session:
        site = session.scalars(select(Site)).one()
        staff = session.scalars(select(StaffAccount).where(StaffAccount.username == "zhao")).one()
        drill = session.scalars(select(Item).where(Item.asset_tag == "XINHUA-DRILL-001")).one()
        resident = session.scalars(select(Resident).where(Resident.phone == "13800000001")).one()
        now = live_server.clock.now()
        lending.lend_at_counter(
            session, staff=staff, item_id=drill.id, resident_id=resident.id, now=now
        )
        lending_reconciliation.reconcile(
            session, site_id=site.id, device_id="locker-a",
            reports=[CompartmentReport(n, n != 2, True) for n in range(1, 9)], now=now,
        )  # fmt: skip


def test_staff_read_and_resolve_locker_checks_on_a_1366_screen_in_chinese(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    disagree(live_server)
    sign_in(page)
    page.goto("/staff/lending/checks")
    expect(page.locator("h1")).to_have_text("工具柜核对")
    cards = page.locator(".mismatch")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("未办归还却已放回？")
    expect(cards.last).to_contain_text("柜格里不见了")
    # Nothing sideways: the page fits the staff screen's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= STAFF_SCREEN["width"]
    screenshot(page, "staff-lending-checks-1366-zh")

    missing = cards.last
    missing.get_by_label("确实不见了：把工具登记为遗失").check()
    missing.locator("textarea").fill("全中心找过，没有找到")
    missing.get_by_role("button", name="标记为已解决").click()
    expect(page.locator(".mismatch")).to_have_count(1)
    history = page.locator(".mismatch-history")
    expect(history).to_contain_text("已登记为遗失")
    expect(history).to_contain_text("全中心找过，没有找到")
    with live_server.app.app_context(), database().read() as session:
        status = session.scalars(
            select(Item.status).where(Item.asset_tag == "XINHUA-DRILL-002")
        ).one()
    assert status is ItemStatus.LOST
    screenshot(page, "staff-lending-checks-resolved-1366-zh")
    assert page_problems.messages == []
