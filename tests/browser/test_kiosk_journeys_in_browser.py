"""Kiosk journeys of issue 16 in real Chromium at 1080×1920, screenshots kept: signing in
carries on with the task, a wrong PIN keeps the phone, the next person starts in Chinese,
a tool is returned from the home screen, and a booking is cancelled only after asking."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.lending import operations as lending
from booking.lending.models.tools import Item, ItemStatus
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from kiosk.extensions import database as app_database
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits

pytestmark = pytest.mark.browser

PHONE = "13800000001"  # 王秀英 in the demo centre
PIN = "275139"


def sign_in_on_the_keypad(page: Page, pin: str = PIN) -> None:
    tap_digits(page, PHONE)  # a full phone number moves on to the PIN by itself
    tap_digits(page, pin)
    page.locator(".button-submit").tap()


def wait_until_idle_timer_is_armed(page: Page) -> None:
    expect(page.locator("body")).to_have_attribute("data-idle-ready", "true")


def test_signing_in_carries_on_with_the_task_that_asked_for_it(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/kiosk/")
    page.locator(".button-my-bookings").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in\?next=/kiosk/bookings$"))
    screenshot(page, "journey-01-sign-in-for-my-bookings")
    sign_in_on_the_keypad(page)
    expect(page).to_have_url(re.compile(r"/kiosk/bookings$"))
    expect(page.locator("h1")).to_have_text("我的预约")
    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    screenshot(page, "journey-02-my-bookings-after-sign-in")

    # The sign-in button at the bottom of a page comes back to that page too.
    page.locator(".button-sign-out").tap()
    expect(page.locator("body")).to_have_attribute("data-signed-in", "false")
    page.goto("/kiosk/rooms")
    page.locator(".button-sign-in").tap()
    # The sign-in page has loaded before a key is tapped.
    expect(page.locator("#sign-in-form")).to_be_visible()
    sign_in_on_the_keypad(page)
    expect(page).to_have_url(re.compile(r"/kiosk/rooms$"))
    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    assert page_problems.messages == []


def test_a_wrong_pin_keeps_the_phone_and_the_keys_go_on_with_the_pin(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/kiosk/sign-in")
    sign_in_on_the_keypad(page, pin="999999")
    expect(page.locator("#sign-in-error")).to_contain_text("手机号码或密码不对")
    expect(page.locator("#phone")).to_have_value(PHONE)
    expect(page.locator("#pin")).to_have_value("")
    screenshot(page, "journey-03-wrong-pin-phone-kept")
    tap_digits(page, PIN)  # straight into the PIN box: the phone is not typed again
    expect(page.locator("#phone")).to_have_value(PHONE)
    expect(page.locator("#pin")).to_have_value(PIN)
    page.locator(".button-submit").tap()
    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    assert page_problems.messages == []


def test_the_next_person_starts_in_chinese_after_sign_out_and_after_the_idle_timeout(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.clock.install()
    page.goto("/kiosk/sign-in")
    page.locator(".button-language").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    sign_in_on_the_keypad(page)
    expect(page.locator(".greeting")).to_have_text("Hello, 王*英")
    page.locator(".button-sign-out").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".tile-title").first).to_have_text("借工具")
    screenshot(page, "journey-04-chinese-after-sign-out")

    # Signed in in English and walked away: the idle sign-out brings Chinese back.
    page.locator(".button-language").tap()
    page.locator(".button-sign-in").tap()
    # The sign-in page has loaded before a key is tapped.
    expect(page.locator("#sign-in-form")).to_be_visible()
    sign_in_on_the_keypad(page)
    expect(page.locator(".greeting")).to_have_text("Hello, 王*英")
    wait_until_idle_timer_is_armed(page)
    page.clock.fast_forward(61_000)
    page.clock.run_for(500)
    expect(page.locator("body")).to_have_attribute("data-signed-in", "false")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    # Switched to English without signing in and left: home goes back to Chinese as well.
    page.locator(".button-language").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    wait_until_idle_timer_is_armed(page)
    page.clock.fast_forward(61_000)
    page.clock.run_for(500)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".tile-title").first).to_have_text("借工具")
    screenshot(page, "journey-05-chinese-after-idle")
    assert page_problems.messages == []


def lend_a_counter_item_to_wang(live_server: LiveServer) -> str:
    """Staff lent 王秀英 one of the centre's counter items: its Chinese name."""
    with live_server.app.app_context(), app_database().write() as session:
        staff = session.scalars(select(StaffAccount).order_by(StaffAccount.id)).first()
        resident = session.scalars(select(Resident).where(Resident.phone == PHONE)).one()
        item = session.scalars(
            select(Item).where(Item.locker_device_id.is_(None), Item.status == ItemStatus.AVAILABLE)
            .order_by(Item.id)
        ).first()  # fmt: skip
        assert staff is not None and item is not None
        lending.lend_at_counter(
            session, staff=staff, item_id=item.id, resident_id=resident.id,
            now=live_server.clock.now(),
        )  # fmt: skip
        return str(item.tool_type.name_zh)


def test_a_tool_is_returned_from_the_home_screen_in_few_taps(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    tool = lend_a_counter_item_to_wang(live_server)
    page.goto("/kiosk/")
    expect(page.locator(".button-return-tool")).to_have_text("还工具")
    screenshot(page, "journey-06-home-with-return")
    page.locator(".button-return-tool").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in\?next=/kiosk/tools/mine$"))
    sign_in_on_the_keypad(page)
    expect(page).to_have_url(re.compile(r"/kiosk/tools/mine$"))
    expect(page.locator(".loan-card")).to_have_count(1)
    expect(page.locator(".loan-card")).to_contain_text(tool)
    screenshot(page, "journey-07-my-tools-after-sign-in")
    assert page_problems.messages == []


def test_cancelling_a_booking_asks_once_in_large_words(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/kiosk/sign-in")
    sign_in_on_the_keypad(page)
    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    page.goto("/kiosk/seats?day=2026-11-24&start=11:00&minutes=60")
    page.locator('.seat-map [data-seat="5"]').tap()
    page.locator(".button-book").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/bookings/\d+$"))
    slip_url = page.url

    page.locator(".action-cancel").tap()
    expect(page.locator("h1")).to_have_text("要取消这个预约吗？")
    expect(page.locator(".booking-what")).to_contain_text("自习室，5号座")
    yes, no = page.locator("#confirm-cancel"), page.locator("#keep-booking")
    expect(yes).to_have_text("确定取消")
    expect(no).to_have_text("不取消")
    for button in (yes, no):
        box = button.bounding_box()
        assert box is not None and box["height"] >= 64
    screenshot(page, "journey-08-cancel-asks")

    no.tap()
    expect(page).to_have_url(slip_url)
    expect(page.locator(".booking-status")).to_have_text("已预约")

    page.locator(".action-cancel").tap()
    page.locator("#confirm-cancel").tap()
    expect(page).to_have_url(slip_url)
    expect(page.locator(".notice").first).to_contain_text("预约已取消")
    expect(page.locator(".booking-status")).to_have_text("已取消")
    screenshot(page, "journey-09-cancelled")
    assert page_problems.messages == []
