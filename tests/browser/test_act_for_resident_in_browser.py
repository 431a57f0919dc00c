"""Staff booking a seat for a resident from the resident's console page, at the console's
1366×768, in Chinese; and a kiosk with two study rooms asking which one, at 1080×1920."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from booking.people.models.residents import Resident
from booking.spaces.models.bookings import Booking
from kiosk.extensions import database
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.kiosk.test_kiosk_study_rooms import add_study_room

pytestmark = pytest.mark.browser
CONSOLE = {"width": 1366, "height": 768}


def test_staff_book_a_seat_for_a_resident_and_the_page_says_who_booked_it(
    browser: Browser, live_server: LiveServer, page_problems: PageProblems
) -> None:
    with live_server.app.app_context(), database().read() as session:
        wang = session.scalar(select(Resident.id).where(Resident.name == "王秀英"))
    desk = browser.new_context(base_url=live_server.url, viewport=CONSOLE, locale="zh-CN")
    console = desk.new_page()
    console.on("pageerror", lambda error: page_problems.messages.append(str(error)))
    console.goto(f"/staff/residents/{wang}")
    console.fill("#username", "zhao")
    console.fill("#password", "linli-staff-2026")
    console.get_by_role("button", name="登录").click()
    expect(console).to_have_url(re.compile(rf"/staff/residents/{wang}$"))
    expect(console.locator("#act-for")).to_contain_text("为该居民预约")
    screenshot(console, "act-for-01-resident-page")

    console.get_by_role("link", name="自习座位").click()
    expect(console.locator("h1")).to_have_text("为 王秀英 预约自习座位")
    console.select_option("#seat", label="自习室 · 5号座")
    console.fill("#day", "2026-11-24")
    console.fill("#start", "10:00")
    console.select_option("#minutes", "120")
    screenshot(console, "act-for-02-seat-form")
    console.get_by_role("button", name="为 王秀英 预约").click()
    expect(console).to_have_url(re.compile(rf"/staff/residents/{wang}#bookings$"))
    expect(console.locator(".notice-success")).to_contain_text("已为 王秀英 预约")
    with live_server.app.app_context(), database().read() as session:
        booking_id = session.scalars(select(Booking.id).where(Booking.resident_id == wang)).one()
    row = console.locator(f'tr[data-booking="{booking_id}"]')
    expect(row).to_contain_text("由 工作人员 赵敏 (社区工作者) 代订")
    row.scroll_into_view_if_needed()
    screenshot(console, "act-for-03-booked-by-staff")
    desk.close()
    assert page_problems.messages == []


def test_a_kiosk_with_two_study_rooms_asks_which_room_with_big_chinese_first_targets(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    add_study_room(live_server.app, "study-2", "自习室二", "Study room 2")
    page.goto("/kiosk/seats")
    choices = page.locator(".room-choice")
    expect(choices).to_have_count(2)
    expect(choices.nth(1).locator(".room-choice-name")).to_have_text("自习室二")
    box = choices.nth(1).bounding_box()
    assert box is not None and box["height"] >= 64 and box["width"] >= 64
    screenshot(page, "act-for-04-kiosk-two-study-rooms")
    choices.nth(1).tap()
    expect(page.locator(".seat-map .seat")).to_have_count(4)
    screenshot(page, "act-for-05-kiosk-second-room-map")
    assert page_problems.messages == []
