"""In real Chromium on the kiosk's portrait screen: a tool staff held for the resident (they
rang the desk) is the first thing on the tool pages once they sign in, with one big button
that opens its compartment."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.lending import operations as lending
from booking.lending.models.tool_types import ToolType
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from kiosk.extensions import database as app_database
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits

pytestmark = pytest.mark.browser


def hold_a_drill_for_wang(live_server: LiveServer) -> None:
    """The desk holds a drill for 王秀英 (the rules are lending's; no locker link is needed
    to hold one, only to open it)."""
    with live_server.app.app_context(), app_database().write() as session:
        resident = session.scalars(select(Resident).where(Resident.name == "王秀英")).one()
        staff = session.scalars(select(StaffAccount).order_by(StaffAccount.id)).first()
        assert staff is not None
        drill = session.scalars(select(ToolType).where(ToolType.code == "drill")).one()
        lending.reserve(session, site_id=drill.site_id, resident_id=resident.id,
                        tool_type_id=drill.id, now=live_server.clock.now(), staff=staff)  # fmt: skip


def test_a_held_tool_is_first_on_the_tool_pages_with_a_big_open_button(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    hold_a_drill_for_wang(live_server)
    page.goto("/kiosk/")
    page.locator(".button-sign-in").tap()
    # The sign-in page has loaded before a key is tapped.
    expect(page.locator("#sign-in-form")).to_be_visible()
    tap_digits(page, "13800000001275139")
    page.locator(".button-submit").tap()
    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    page.goto("/kiosk/tools")
    card = page.locator(".hold-card")
    expect(card).to_have_count(1)
    expect(card.locator(".hold-line")).to_contain_text("已为您保留：电钻，保留到 ")
    button = card.get_by_role("button", name="开柜取工具")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 64 and box["width"] >= 64
    # First on the page: above the catalogue, in view without scrolling.
    assert box["y"] + box["height"] <= 1920
    assert box["y"] < page.locator(".tool-list:not(.hold-list)").bounding_box()["y"]  # type: ignore[index]
    screenshot(page, "portrait-tools-held-for-you")
    page.goto("/kiosk/tools/mine")
    expect(page.locator(".hold-card .hold-line")).to_contain_text("已为您保留：电钻")
    assert page_problems.messages == []
