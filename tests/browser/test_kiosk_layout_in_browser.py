"""The kiosk's layout for a resident who cannot scroll back and forth easily: the seat map
keeps its place after each pick, the tools fill the screen as a grid in both orientations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PORTRAIT, LiveServer, PageProblems, screenshot

pytestmark = pytest.mark.browser


def tap_digits(page: Page, digits: str) -> None:
    for digit in digits:
        page.locator(f'.keypad [data-key="{digit}"]').tap()


def in_view(page: Page, selector: str) -> bool:
    """The element's box lies wholly inside the viewport, as it was scrolled."""
    return bool(
        page.eval_on_selector(
            selector,
            """element => {
                const box = element.getBoundingClientRect();
                return box.top >= 0 && box.bottom <= window.innerHeight
                    && box.left >= 0 && box.right <= window.innerWidth;
            }""",
        )
    )


def scrolled(page: Page) -> float:
    """How far the page is scrolled: the kiosk scrolls its <main>, between the two bars."""
    return float(page.evaluate("document.querySelector('main').scrollTop"))


def test_the_seat_map_comes_back_at_the_row_picked_and_at_the_seat_looked_at(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/kiosk/seats")
    # Portrait: the map is below the pickers, so the page scrolls (inside <main>).
    assert page.evaluate("document.querySelector('main').scrollHeight") > PORTRAIT["height"]
    lengths = page.locator(".choices-lengths a")
    lengths.last.scroll_into_view_if_needed()
    lengths.last.tap()
    expect(page).to_have_url(re.compile(r"#step-length$"))
    expect(page.locator(".choices-lengths a").last).to_have_attribute("aria-current", "true")
    assert scrolled(page) > 0
    assert in_view(page, "#step-length")
    assert in_view(page, ".choices-lengths a[aria-current]")
    screenshot(page, "layout-01-seat-map-after-picking-a-length")

    # A seat far down the map, looked at and left: the map comes back at that seat.
    last_seat = page.locator(".seat-map .seat").last
    number = last_seat.get_attribute("data-seat")
    last_seat.scroll_into_view_if_needed()
    last_seat.tap()
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in\?next="))
    tap_digits(page, "13800000001")
    tap_digits(page, "275139")
    page.locator(".button-submit").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/seats/\d+\?"))
    page.locator(".seat-page a.button-wide").last.tap()
    expect(page).to_have_url(re.compile(r"/kiosk/seats\?.*#seat-\d+$"))
    assert scrolled(page) > 0
    assert in_view(page, f'.seat-map [data-seat="{number}"]')
    screenshot(page, "layout-02-seat-map-back-at-the-seat")
    assert page_problems.messages == []
