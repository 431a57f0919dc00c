"""A resident is enrolled in the console at the desk (1366×768) and chooses their PIN at the
kiosk (1080×1920) with the code on the slip, on the kiosk's own number keys, in Chinese."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}


def test_a_resident_enrolled_in_the_console_sets_the_pin_at_the_kiosk(
    browser: Browser, page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    desk = browser.new_context(base_url=live_server.url, viewport=DESK, locale="zh-CN")
    console = desk.new_page()
    console.on("pageerror", lambda error: page_problems.messages.append(str(error)))
    console.goto("/staff/sign-in")
    console.locator("#username").fill("zhao")
    console.locator("#password").fill("linli-staff-2026")
    console.locator("button[type=submit]").last.click()
    console.goto("/staff/residents")
    console.get_by_role("link", name="登记居民").click()
    console.locator("#name").fill("周桂兰")
    console.locator("#phone").fill("139 0000 0123")
    console.locator("#birth_year").fill("1950")
    console.locator("#building").fill("3号楼")
    console.locator("#unit").fill("2单元")
    console.locator("#room").fill("301")
    console.locator("#lives_alone").check()
    console.locator("#emergency_contact_name").fill("周强")
    console.locator("#emergency_contact_phone").fill("13900000999")
    screenshot(console, "enrol-01-console-form")
    console.get_by_role("button", name="登记并打印验证码单").click()
    slip = console.locator(".code-slip")
    expect(slip).to_contain_text("欢迎！请设置您的自助机密码")
    expect(slip).to_contain_text("Welcome! Choose your kiosk PIN")
    expect(slip).to_contain_text("2026-11-25 09:30")
    screenshot(console, "enrol-02-console-slip")
    code = console.locator(".slip-code").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{8}", code)
    desk.close()

    page.goto("/kiosk/sign-in")
    page.get_by_role("link", name="第一次使用或忘记密码？我有验证码").tap()
    # The code page has loaded before a key is tapped (the sign-in page has a keypad too).
    expect(page.locator("#code-form")).to_be_visible()
    tap_digits(page, "13900000123")  # a full phone number moves on to the code by itself
    tap_digits(page, code)
    expect(page.locator("#phone")).to_have_value("13900000123")
    expect(page.locator("#code")).to_have_value(code)
    screenshot(page, "enrol-03-kiosk-code")
    page.locator(".button-submit").tap()

    expect(page.locator(".lead")).to_contain_text("验证码正确")
    page.locator("#pin").tap()
    tap_digits(page, "385720")
    page.locator("#pin_again").tap()
    tap_digits(page, "385720")
    screenshot(page, "enrol-04-kiosk-pin")
    page.locator(".button-submit").tap()

    expect(page.locator(".greeting")).to_have_text("您好，周*兰")
    expect(page.locator("main")).to_contain_text("密码已保存")
    screenshot(page, "enrol-05-kiosk-signed-in")
    assert page_problems.messages == []
