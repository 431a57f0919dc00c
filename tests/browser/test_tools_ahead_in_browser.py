"""In real Chromium on the kiosk's portrait screen: a resident reserves a ladder for a day and
a time with big choices, finds it under "my tools" and cancels it; with large text on, the
reserve page still fits and every button is still a big target."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.lending.models.reservations import ReservationStatus, ToolReservation
from booking.lending.models.tool_types import ToolType
from kiosk.extensions import database as app_database
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.test_kiosk_layout_in_browser import assert_fits, sign_in

pytestmark = pytest.mark.browser


def ladder_id(live_server: LiveServer) -> int:
    with live_server.app.app_context(), app_database().read() as session:
        return session.scalars(select(ToolType.id).where(ToolType.code == "ladder")).one()


def reservations(live_server: LiveServer) -> list[ReservationStatus]:
    with live_server.app.app_context(), app_database().read() as session:
        return list(session.scalars(select(ToolReservation.status).order_by(ToolReservation.id)))


def test_a_resident_reserves_a_ladder_for_tomorrow_afternoon_and_cancels_it(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    sign_in(page)
    ladder = ladder_id(live_server)
    page.goto("/kiosk/tools")
    page.locator(f"#tool-{ladder} .button-reserve").tap()
    expect(page.locator("#reserve-form")).to_be_visible()
    page.get_by_text("下午 14:00 至 17:00").tap()
    screenshot(page, "portrait-tools-reserve")
    page.locator("#reserve-submit").tap()
    expect(page.locator(".notice-info")).to_contain_text("预约成功")
    card = page.locator(".reservation-card")
    expect(card).to_contain_text("已预约：")
    expect(card).to_contain_text("14:00 至 17:00")
    assert reservations(live_server) == [ReservationStatus.WAITING]
    card.get_by_role("button", name="取消这个预约").tap()
    expect(page.locator(".notice-info")).to_contain_text("已取消")
    expect(page.locator(".reservation-card")).to_have_count(0)
    assert reservations(live_server) == [ReservationStatus.CANCELLED]
    assert page_problems.messages == []


def test_with_large_text_the_reserve_page_still_fits(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    sign_in(page)
    page.goto("/kiosk/")
    page.locator(".button-text-size").tap()
    expect(page.locator("html")).to_have_class("text-large")
    path = f"/kiosk/tools/{ladder_id(live_server)}/reserve"
    page.goto(path)
    expect(page.locator("html")).to_have_class("text-large")
    assert_fits(page, path)
    screenshot(page, "portrait-tools-reserve-large-text")
    assert page_problems.messages == []
