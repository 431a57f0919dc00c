"""大字 on every kiosk screen (issue 16): with the switch on, every word on every page is at
least half as large again as at the normal size, and the page still fits the screen, standing
or lying: nothing sticks out sideways, nothing spills out of its box, every button is still a
64 px target. The pages are those the axe check walks (tests/browser/kiosk_pages.py), plus the
PIN pages reached on the way: choosing a PIN with a slip's code, and the PIN a resident must set
before going on. One screenshot per page and orientation is kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.core import sites
from booking.people import one_time_codes
from booking.people.models.resident_codes import CodePurpose
from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.browser.conftest import PORTRAIT, LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits
from tests.browser.kiosk_pages import (
    RESIDENT_PHONE,
    RESIDENT_PIN,
    ask_for_a_new_pin,
    kiosk_signed_in_pages,
    kiosk_signed_out_pages,
    seed_page_subjects,
)

pytestmark = pytest.mark.browser

CODE_PHONE = "13800000005"  # 刘: a slip with a code, so the code's PIN page can be shown
# Each worded element's size at large text against its size on the same page, the same
# moment, with the one class that turns large text on taken off (and put back): so every word
# is compared with itself, whatever the page holds. The smallest ratio, and the words it is at.
RATIO = """() => {
    const root = document.documentElement;
    const worded = [root, ...document.querySelectorAll('body *')].filter(element =>
        element === root || element.checkVisibility() && [...element.childNodes].some(
            node => node.nodeType === Node.TEXT_NODE && node.textContent.trim()));
    const sizes = () => worded.map(element => parseFloat(getComputedStyle(element).fontSize));
    const large = sizes();
    root.classList.remove('text-large');
    const normal = sizes();
    root.classList.add('text-large');
    const ratios = large.map((size, i) => size / normal[i]);
    const least = ratios.indexOf(Math.min(...ratios));
    return {ratio: ratios[least], words: worded[least].textContent.trim().slice(0, 30),
            large: large[least], normal: normal[least]};
}"""
# What sticks out sideways: the page, and any element in <main> past its parent's edges
# (the room timeline scrolls sideways inside its own frame on purpose).
OVERFLOW = """() => {
    const spilled = [...document.querySelectorAll('main *')].filter(element => {
        const parent = element.parentElement;
        if (!element.checkVisibility() || element.closest('.timeline-wrap')) return false;
        const box = element.getBoundingClientRect(), frame = parent.getBoundingClientRect();
        return box.width > 0 && (box.right > frame.right + 1 || box.left < frame.left - 1);
    }).map(element => `${element.tagName.toLowerCase()}.${element.className.baseVal
        ?? element.className} in ${element.parentElement.className}`);
    return {page: document.documentElement.scrollWidth - innerWidth, spilled: spilled.slice(0, 5)};
}"""
TARGETS = "main a.button, main button, .topbar .button, .bottombar .button"


def issue_code(live_server: LiveServer) -> str:
    with live_server.app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        resident = session.scalars(select(Resident).where(Resident.phone == CODE_PHONE)).one()
        return one_time_codes.issue_code(
            session, resident_id=resident.id, site_id=site.id, purpose=CodePurpose.PIN_RESET,
            now=live_server.clock.now(), actor="staff:zhao",
        ).code  # fmt: skip


def sign_in(page: Page) -> None:
    page.goto("/kiosk/sign-in")
    expect(page.locator("#sign-in-form")).to_be_visible()
    tap_digits(page, RESIDENT_PHONE)
    tap_digits(page, RESIDENT_PIN)
    page.locator(".button-submit").tap()


def walk(page: Page, live_server: LiveServer, ids: dict[str, Any], look: Callable[[str], None]
         ) -> None:  # fmt: skip
    """Every kiosk page in turn, signed out then signed in, large text switched on with the
    button on the screen (again after each sign-out, which drops it), ``look`` called on each."""

    def switch_on() -> None:
        page.locator(".button-text-size").tap()
        expect(page.locator("html")).to_have_class("text-large")

    page.goto("/kiosk/")
    switch_on()
    for path in kiosk_signed_out_pages():
        page.goto(path)
        look(path)
    # Choosing a PIN with the code on a staff slip.
    code = issue_code(live_server)
    page.goto("/kiosk/code")
    expect(page.locator("#code-form")).to_be_visible()
    tap_digits(page, CODE_PHONE)
    tap_digits(page, code)
    page.locator(".button-submit").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/code/pin"))
    look("/kiosk/code/pin")

    sign_in(page)
    expect(page.locator(".button-sign-out")).to_be_visible()
    for path in kiosk_signed_in_pages(ids) + [f"/kiosk/bookings/{ids['booking_id']}/cancel"]:
        page.goto(path)
        look(f"{path} (signed in)")
    # The PIN a resident must set before going on: the sign-in leads straight to it.
    page.locator(".button-sign-out").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    ask_for_a_new_pin(live_server)
    switch_on()
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/kiosk/pin"))
    look("/kiosk/pin (must set)")


# Portrait only: the kiosk stands 1080 wide, and a landscape screen is wider still, so large
# words that fit here fit there (test_kiosk_layout_in_browser walks landscape's own layout).
# Walking both took 40 s of CI's 20 minutes for no page that could fail only sideways.
@pytest.mark.parametrize("viewport", [PORTRAIT], ids=["portrait"])
def test_large_text_on_every_kiosk_page_is_half_as_large_again_and_still_fits(
    page: Page, live_server: LiveServer, page_problems: PageProblems, viewport: dict[str, int]
) -> None:
    ids = seed_page_subjects(live_server)
    orientation = "portrait"
    checked: list[str] = []
    problems: list[str] = []

    def check(path: str) -> None:
        page.wait_for_load_state("load")
        checked.append(path)
        expect(page.locator("html")).to_have_class("text-large")
        expect(page.locator(".button-text-size")).to_be_visible()
        expect(page.locator(".button-text-size")).to_have_attribute("aria-pressed", "true")
        least = page.evaluate(RATIO)
        if least["ratio"] < 1.5 - 0.001:
            problems.append(f"{path}: words only {least} as large")
        overflow = page.evaluate(OVERFLOW)
        if overflow != {"page": 0, "spilled": []}:
            problems.append(f"{path} does not fit: {overflow}")
        for target in page.locator(TARGETS).all():
            box = target.bounding_box()
            if box is not None and (box["height"] < 64 or box["width"] < 64):
                problems.append(
                    f"{path}: {target.inner_text()!r} is {box['width']}×{box['height']}"
                )
        # Named by the page, not by the ids the demo happened to give its records.
        name = re.sub(r"[^a-z]+", "-", path.lower()).strip("-")
        screenshot(page, f"large-text-{orientation}-{len(checked):02d}-{name}")

    walk(page, live_server, ids, check)
    assert len(checked) >= 28
    assert problems == []
    assert page_problems.messages == []


def test_the_seat_map_in_english_and_large_text_keeps_its_columns_and_its_words_in_its_tiles(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    # English words are longer than Chinese: at large text the tiles grew past their columns,
    # overlapped, and cut "Window" to "Windo" (kiosk walk). Chinese is walked above.
    page.set_viewport_size(PORTRAIT)
    page.goto("/kiosk/")
    page.locator(".button-language").first.tap()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator(".button-text-size").tap()
    expect(page.locator("html")).to_have_class("text-large")
    sign_in(page)
    expect(page.locator(".button-sign-out")).to_be_visible()
    page.goto("/kiosk/seats")
    expect(page.locator(".seat-map")).to_be_visible()
    expect(page.locator(".seat-map .feature").first).to_be_visible()
    assert page.evaluate(OVERFLOW) == {"page": 0, "spilled": []}
    assert page_problems.messages == []
