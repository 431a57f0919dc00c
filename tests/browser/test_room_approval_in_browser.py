"""A meeting-room booking that needs approval, end to end in real Chromium: a resident asks
at the kiosk, staff approve it in the console, the resident sees it approved at the kiosk."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LANDSCAPE, LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits

pytestmark = pytest.mark.browser


def test_staff_approve_a_meeting_room_request_and_the_resident_sees_it_approved(
    page: Page, browser: Browser, live_server: LiveServer, page_problems: PageProblems
) -> None:
    # The resident asks for the meeting room at the kiosk.
    page.goto("/kiosk/sign-in?next=/kiosk/rooms")
    tap_digits(page, "13800000001")
    tap_digits(page, "275139")
    page.locator(".button-submit").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/rooms$"))
    meeting = page.locator(".room-head", has_text="协商议事室").get_attribute("data-room")
    page.locator(f'.slot[data-room="{meeting}"][data-start="14:00"] a').tap()
    expect(page.locator("#room-start")).to_have_text("14:00")
    page.locator(".choices-headcount label", has_text="6").first.tap()
    page.locator(".choices-purpose label", has_text="居民议事").tap()
    page.locator(".button-book").tap()
    card = page.locator(".booking-card").first
    expect(card).to_have_attribute("data-status", "pending")
    expect(card.locator(".booking-status")).to_have_text("等待工作人员审批")
    booking_id = card.get_attribute("data-booking")
    screenshot(page, "approval-01-kiosk-pending")

    # Staff, in their own browser, approve it in the console.
    desk = browser.new_context(base_url=live_server.url, viewport=LANDSCAPE, locale="zh-CN")
    console = desk.new_page()
    console.on("pageerror", lambda error: page_problems.messages.append(str(error)))
    console.goto("/staff/bookings/approvals")
    expect(console).to_have_url(re.compile(r"/staff/sign-in\?next="))
    console.fill("#username", "zhao")
    console.fill("#password", "linli-staff-2026")
    console.get_by_role("button", name="登录").click()
    expect(console).to_have_url(re.compile(r"/staff/bookings/approvals$"))
    row = console.locator(f"#booking-{booking_id}")
    expect(row).to_contain_text("王秀英")
    expect(row).to_contain_text("14:00–15:00")
    screenshot(console, "approval-02-console-waiting")
    row.get_by_role("button", name="批准").click()
    expect(console.locator(".notice")).to_contain_text("已批准")
    expect(console.locator(f"#booking-{booking_id}")).to_have_count(0)
    console.goto("/staff/bookings?space=" + str(meeting))
    expect(console.locator(".block-confirmed")).to_contain_text("王*英")
    screenshot(console, "approval-03-console-calendar")
    desk.close()

    # Back at the kiosk, the resident's booking reads approved, with a message saying so.
    page.goto("/kiosk/bookings")
    mine = page.locator(f'.booking-card[data-booking="{booking_id}"]')
    expect(mine).to_have_attribute("data-status", "confirmed")
    expect(mine.locator(".booking-status")).to_have_text("已预约")
    expect(page.locator(".notice-booking_approved")).to_contain_text("已批准")
    screenshot(page, "approval-04-kiosk-approved")
    assert page_problems.messages == []
