"""The kiosk in a real browser: sign in on the keypad, switch language, be signed out when idle."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LANDSCAPE, PORTRAIT, LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits

pytestmark = pytest.mark.browser


def wait_until_idle_timer_is_armed(page: Page) -> None:
    """Moving the clock before idle.js has run would move it past a timer not yet set."""
    expect(page.locator("body")).to_have_attribute("data-idle-ready", "true")


def sign_in_and_stay_idle_until_the_overlay_shows(page: Page) -> None:
    """李建国 signs in with the keyboard and leaves the screen alone for 45 s."""
    page.clock.install()
    page.goto("/kiosk/sign-in")
    page.locator("#phone").press_sequentially("13800000002")
    page.locator("#pin").press_sequentially("386204")
    page.locator("#pin").press("Enter")
    expect(page.locator(".greeting")).to_have_text("您好，李*国")

    wait_until_idle_timer_is_armed(page)
    page.clock.fast_forward(45_000)
    page.clock.run_for(500)
    expect(page.locator("#idle-overlay")).to_be_visible()


def test_a_resident_signs_in_on_the_keypad_switches_language_and_is_signed_out_when_idle(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.clock.install()
    page.goto("/kiosk/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".tile-title")).to_have_text(["借工具", "自习室", "活动室", "量血压"])
    screenshot(page, "portrait-01-home")

    page.locator(".button-sign-in").tap()
    # The sign-in page has loaded before a key is tapped.
    expect(page.locator("#sign-in-form")).to_be_visible()
    tap_digits(page, "13800000001")  # a full phone number moves on to the PIN by itself
    tap_digits(page, "275139")
    expect(page.locator("#phone")).to_have_value("13800000001")
    expect(page.locator("#pin")).to_have_value("275139")
    screenshot(page, "portrait-02-sign-in-typed")
    page.locator(".button-submit").tap()

    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    expect(page.locator("body")).not_to_contain_text("王秀英")
    screenshot(page, "portrait-03-signed-in")

    page.locator(".button-language").tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".greeting")).to_have_text("Hello, 王*英")
    expect(page.locator(".tile-title").first).to_have_text("Borrow tools")
    screenshot(page, "portrait-04-english")
    page.locator(".button-language").tap()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator(".greeting")).to_have_text("您好，王*英")

    # Nobody touches the screen: at 40 s the overlay counts down the last 20 s.
    overlay = page.locator("#idle-overlay")
    wait_until_idle_timer_is_armed(page)
    page.clock.fast_forward(39_000)
    page.clock.run_for(500)
    expect(overlay).to_be_hidden()
    page.clock.fast_forward(1_000)
    page.clock.run_for(500)
    expect(overlay).to_be_visible()
    countdown = int(page.locator("[data-countdown]").inner_text())
    assert 19 <= countdown <= 20
    expect(page.locator("[data-idle-continue]")).to_have_text("继续使用")
    screenshot(page, "portrait-05-idle-countdown")

    page.clock.run_for(20_500)
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.locator(".notice")).to_contain_text("已自动为您退出登录")
    expect(page.locator(".button-sign-in")).to_be_visible()
    screenshot(page, "portrait-06-signed-out-idle")
    assert page_problems.messages == []


def test_continue_on_the_idle_overlay_keeps_the_resident_signed_in(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    sign_in_and_stay_idle_until_the_overlay_shows(page)
    with page.expect_response(re.compile(r"/kiosk/session/keepalive$")) as keepalive:
        page.locator("[data-idle-continue]").tap()
    assert keepalive.value.status == 200
    expect(page.locator("#idle-overlay")).to_be_hidden()

    # A full idle period later than the first warning, the resident is still there.
    page.clock.fast_forward(30_000)
    page.clock.run_for(500)
    expect(page.locator("#idle-overlay")).to_be_hidden()
    expect(page.locator(".greeting")).to_have_text("您好，李*国")
    assert page_problems.messages == []


def test_the_page_behind_the_idle_overlay_cannot_be_tapped_or_focused(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    sign_in_and_stay_idle_until_the_overlay_shows(page)
    assert page.evaluate("document.querySelector('main').inert") is True
    # Tabbing stays inside the dialog instead of reaching the page behind it.
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.getElementById('idle-overlay').contains(document.activeElement)"
        )
    page.locator("[data-idle-continue]").tap()
    expect(page.locator("#idle-overlay")).to_be_hidden()
    assert page.evaluate("document.querySelector('main').inert") is False
    assert page_problems.messages == []


@pytest.mark.parametrize(("viewport", "shape"), [(PORTRAIT, "portrait"), (LANDSCAPE, "landscape")])
def test_after_wrong_pins_the_kiosk_says_how_long_to_wait_in_both_languages(
    page: Page, live_server: LiveServer, page_problems: PageProblems, shape: str
) -> None:
    page.goto("/kiosk/sign-in")
    tap_digits(page, "13800000001")
    tap_digits(page, "9999")
    page.locator(".button-submit").tap()
    error = page.locator("#sign-in-error")
    expect(error).to_contain_text("手机号码或密码不对")
    screenshot(page, f"{shape}-07-wrong-pin")
    for _ in range(2):
        # The rest from a physical keyboard, which the inputs also accept.
        page.locator("#phone").fill("13800000001")
        page.locator("#pin").fill("9999")
        page.locator("#pin").press("Enter")
    # The right PIN, too soon after the third wrong one: the screen says how long to wait.
    tap_digits(page, "13800000001")
    tap_digits(page, "275139")
    page.locator(".button-submit").tap()
    expect(error).to_contain_text("请 30 秒后再试")
    expect(error).to_contain_text("Please try again in 30 seconds.")
    expect(page.locator(".button-submit")).to_be_in_viewport(ratio=1)
    screenshot(page, f"{shape}-08-wait")
    expect(page.locator(".greeting")).to_have_count(0)
    assert page_problems.messages == []


@pytest.mark.parametrize(("viewport", "shape"), [(PORTRAIT, "portrait"), (LANDSCAPE, "landscape")])
@pytest.mark.parametrize("path", ["/kiosk/", "/kiosk/sign-in", "/kiosk/services/tools"])
def test_kiosk_pages_fit_the_screen_with_big_targets_and_big_text(
    page: Page, live_server: LiveServer, shape: str, path: str
) -> None:
    page.goto(path)
    too_small = page.evaluate(
        """() => [...document.querySelectorAll('a, button, input:not([type=hidden])')]
            .filter(el => el.offsetParent !== null)
            .map(el => [el.textContent.trim() || el.id, el.getBoundingClientRect()])
            .filter(([, r]) => r.width < 64 || r.height < 64)
            .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert too_small == []
    body_px = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert body_px >= 24
    scroll = page.evaluate(
        """() => [document.documentElement.scrollWidth - innerWidth,
                  document.documentElement.scrollHeight - innerHeight]"""
    )
    assert scroll == [0, 0], "the page must fit the screen without scrolling"
    name = path.strip("/").replace("/", "-") or "home"
    screenshot(page, f"{shape}-layout-{name}")


def test_a_half_typed_sign_in_is_cleared_when_the_resident_walks_away(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.clock.install()
    page.goto("/kiosk/sign-in")
    tap_digits(page, "13800000001")
    tap_digits(page, "12")
    wait_until_idle_timer_is_armed(page)
    page.clock.fast_forward(61_000)
    page.clock.run_for(500)
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    page.goto("/kiosk/sign-in")
    expect(page.locator("#phone")).to_have_value("")
    assert page_problems.messages == []


def test_delete_on_an_empty_pin_goes_back_to_the_phone_number(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/kiosk/sign-in")
    tap_digits(page, "13800000009")
    page.locator('.keypad [data-key="delete"]').tap()
    tap_digits(page, "1")
    expect(page.locator("#phone")).to_have_value("13800000001")
    expect(page.locator("#pin")).to_have_value("")


CONTRAST_BELOW_7 = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll('body *')]
    .filter(el => el.offsetParent !== null)
    .filter(el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(el => {
      const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      return [el.textContent.trim().slice(0, 20), Math.round(ratio * 10) / 10];
    })
    .filter(([, ratio]) => ratio < 7);
}"""


@pytest.mark.parametrize("path", ["/kiosk/", "/kiosk/sign-in", "/kiosk/services/rooms"])
def test_every_text_on_kiosk_pages_has_a_contrast_of_at_least_7_to_1(
    page: Page, live_server: LiveServer, path: str
) -> None:
    page.goto(path)
    assert page.evaluate(CONTRAST_BELOW_7) == []


def test_error_notices_have_a_contrast_of_at_least_7_to_1(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/kiosk/sign-in")
    page.locator("#phone").fill("13800000001")
    page.locator("#pin").fill("9999")
    page.locator("#pin").press("Enter")
    expect(page.locator("#sign-in-error")).to_be_visible()
    assert page.evaluate(CONTRAST_BELOW_7) == []
