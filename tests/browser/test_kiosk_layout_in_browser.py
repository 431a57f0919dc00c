"""The kiosk's layout for a resident who cannot scroll back and forth easily: the seat map
keeps its place after each pick, the tools fill the screen as a grid in both orientations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from devices.fleet import link_status
from devices.models.compartments import Compartment, DoorState, LockState
from devices.models.device import Device, DeviceKind
from devices.models.links import LinkState
from kiosk.extensions import database
from tests.browser.conftest import LANDSCAPE, PORTRAIT, LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits

pytestmark = pytest.mark.browser


def lockers_report_every_item(live_server: LiveServer) -> None:
    """The bridge beating and the demo's lockers online, each compartment reporting its
    tool inside: every locker tool is offered with its borrow button, the tallest card."""
    now = live_server.clock.now()
    with live_server.app.app_context(), database().write() as session:
        items = session.scalars(select(Item).where(Item.locker_device_id.is_not(None))).all()
        site_id = items[0].site_id
        link_status.record_link(
            session, site="xinhua", client_id="bridge", state=LinkState.CONNECTED, now=now
        )
        for device_id in sorted({item.locker_device_id for item in items if item.locker_device_id}):
            session.add(
                Device(
                    site_id=site_id,
                    device_id=device_id,
                    kind=DeviceKind.LOCKER,
                    mqtt_password_hash="$7$unused",
                    online=True,
                    created_at=now,
                    last_seen_at=now,
                )  # fmt: skip
            )
        session.flush()
        for item in items:
            assert item.locker_device_id is not None and item.compartment is not None
            session.add(
                Compartment(
                    device_id=item.locker_device_id,
                    n=item.compartment,
                    lock=LockState.LOCKED,
                    door=DoorState.CLOSED,
                    item_present=True,
                    updated_at=now,
                )  # fmt: skip
            )


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
    """How far the page is scrolled: the kiosk scrolls its <main>, between the two bars.
    The browser moves to a fragment once the page is laid out, so wait for that first."""
    page.wait_for_load_state("load")
    page.wait_for_function("document.querySelector('main').scrollTop > 0", timeout=3000)
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


@pytest.mark.parametrize(
    ("viewport", "columns"), [(PORTRAIT, 2), (LANDSCAPE, 4)], ids=["portrait", "landscape"]
)
def test_the_tools_are_a_grid_that_fits_the_screen_standing_or_lying(
    page: Page,
    live_server: LiveServer,
    page_problems: PageProblems,
    viewport: dict[str, int],
    columns: int,
) -> None:
    lockers_report_every_item(live_server)
    with live_server.app.app_context(), database().read() as session:
        tool_types = len(session.scalars(select(ToolType)).all())
    page.goto("/kiosk/tools")
    cards = page.locator(".tool-grid .tool-card")
    expect(cards).to_have_count(tool_types)
    assert page.locator(".tool-grid .button-borrow").count() >= 4
    lefts = {round(card.bounding_box()["x"]) for card in cards.all()}  # type: ignore[index]
    assert len(lefts) == columns
    # The whole catalogue on one screen: nothing to scroll, every borrow button in view.
    tall, room = page.evaluate("[document.querySelector('main').scrollHeight, innerHeight]")
    main_room = page.evaluate("document.querySelector('main').clientHeight")
    assert tall <= main_room + 2, f"the tools take {tall} px of {main_room} px between the bars"
    assert room == viewport["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    for button in page.locator(".tool-grid .button-borrow").all():
        box = button.bounding_box()
        assert box is not None and box["height"] >= 64
        assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"]
    screenshot(page, f"layout-03-tools-{'portrait' if columns == 2 else 'landscape'}")
    assert page_problems.messages == []


SIGNED_OUT_PAGES = ["/kiosk/", "/kiosk/sign-in", "/kiosk/code", "/kiosk/seats", "/kiosk/rooms",
                    "/kiosk/tools", "/kiosk/services/blood-pressure"]  # fmt: skip
SIGNED_IN_PAGES = ["/kiosk/", "/kiosk/bookings", "/kiosk/tools", "/kiosk/tools/mine",
                   "/kiosk/seats", "/kiosk/rooms", "/kiosk/services/blood-pressure",
                   "/kiosk/messages"]  # fmt: skip
SIZES = """() => [getComputedStyle(document.documentElement).fontSize,
    getComputedStyle(document.querySelector('.topbar .button')).fontSize,
    getComputedStyle(document.querySelector('main h1, main .page-title')).fontSize]
    .map(parseFloat)"""
OVERFLOW = """() => {
    const main = document.querySelector('main');
    const wide = [...document.querySelectorAll('body *')].filter(element => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && (box.right > innerWidth + 1 || box.left < -1)
            && !element.closest('.timeline-wrap');
    }).map(element => element.className.baseVal ?? element.className);
    return {page: document.documentElement.scrollWidth - innerWidth,
            main: main.scrollWidth - main.clientWidth, wide: wide.slice(0, 5)};
}"""


def sign_in(page: Page) -> None:
    page.goto("/kiosk/sign-in")
    tap_digits(page, "13800000001")
    tap_digits(page, "275139")
    page.locator(".button-submit").tap()
    expect(page.locator(".button-sign-out")).to_be_visible()


def assert_fits(page: Page, path: str) -> None:
    overflow = page.evaluate(OVERFLOW)
    assert overflow == {"page": 0, "main": 0, "wide": []}, f"{path} is too wide: {overflow}"
    for target in page.locator("main a.button, main button.button, .topbar .button").all():
        box = target.bounding_box()
        if box is not None:
            assert box["height"] >= 64 and box["width"] >= 64, f"{path}: a target is too small"


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_large_text_makes_every_word_half_as_large_again_and_every_screen_still_fits(
    page: Page, live_server: LiveServer, page_problems: PageProblems, viewport: dict[str, int]
) -> None:
    name = "portrait" if viewport is PORTRAIT else "landscape"
    normal = {path: None for path in SIGNED_OUT_PAGES}
    for path in SIGNED_OUT_PAGES:
        page.goto(path)
        normal[path] = page.evaluate(SIZES)
    page.goto("/kiosk/")
    switch = page.locator(".button-text-size")
    expect(switch).to_have_attribute("aria-pressed", "false")
    switch.tap()
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.locator(".button-text-size")).to_have_attribute("aria-pressed", "true")
    screenshot(page, f"layout-04-large-text-home-{name}")
    for path in SIGNED_OUT_PAGES:
        page.goto(path)
        large = page.evaluate(SIZES)
        assert all(
            big >= 1.5 * small - 0.01 for big, small in zip(large, normal[path], strict=True)
        ), f"{path}: {large} against {normal[path]}"
        assert_fits(page, path)
    page.goto("/kiosk/seats")
    screenshot(page, f"layout-05-large-text-seats-{name}")

    # Kept through sign-in for the whole visit, on every screen the resident sees.
    sign_in(page)
    for path in SIGNED_IN_PAGES:
        page.goto(path)
        expect(page.locator("html")).to_have_class("text-large")
        assert_fits(page, path)
    page.goto("/kiosk/tools")
    screenshot(page, f"layout-06-large-text-tools-{name}")
    assert page_problems.messages == []


def test_the_next_person_starts_at_the_normal_size_after_sign_out(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    sign_in(page)
    page.locator(".button-text-size").tap()
    expect(page.locator("html")).to_have_class("text-large")
    page.locator(".button-sign-out").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    expect(page.locator("html")).not_to_have_class("text-large")
    expect(page.locator(".button-text-size")).to_have_attribute("aria-pressed", "false")
    assert page_problems.messages == []


def test_large_text_left_on_by_someone_who_walked_away_is_gone_for_the_next_person(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.clock.install()
    page.goto("/kiosk/")
    page.locator(".button-text-size").tap()
    expect(page.locator("html")).to_have_class("text-large")
    expect(page.locator("body")).to_have_attribute("data-idle-ready", "true")
    page.clock.fast_forward(61_000)
    page.clock.run_for(500)
    expect(page.locator("html")).not_to_have_class("text-large")
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    assert page_problems.messages == []


# A browser with one Chinese voice, and a speaker that writes down what it was asked to say.
CHINESE_VOICE = """
window.spoken = [];
const voice = {name: "Tingting", lang: "zh-CN", voiceURI: "Tingting", localService: true,
               default: false};
const speech = window.speechSynthesis;
speech.getVoices = () => [voice];
speech.speak = utterance => window.spoken.push(
    {text: utterance.text, lang: utterance.lang, voice: utterance.voice.name});
speech.cancel = () => {};
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
"""


def test_without_a_chinese_voice_there_is_no_read_aloud_button(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    # Headless Chromium has no voices at all.
    page.goto("/kiosk/seats")
    assert page.evaluate("speechSynthesis.getVoices().length") == 0
    expect(page.locator("[data-read-aloud]")).to_have_count(1)
    expect(page.locator("[data-read-aloud]")).to_be_hidden()
    assert page_problems.messages == []


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_with_a_chinese_voice_the_read_aloud_button_reads_the_screens_main_words(
    page: Page, live_server: LiveServer, page_problems: PageProblems, viewport: dict[str, int]
) -> None:
    page.add_init_script(CHINESE_VOICE)
    page.goto("/kiosk/seats")
    button = page.locator("[data-read-aloud]")
    expect(button).to_be_visible()
    expect(button).to_have_text("朗读")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 64
    button.tap()
    spoken = page.evaluate("window.spoken")
    assert len(spoken) == 1
    assert spoken[0]["voice"] == "Tingting" and spoken[0]["lang"] == "zh-CN"
    for words in ("自习室", "1. 选择日期", "4. 点一个空座位", "24 个座位空闲"):
        assert words in spoken[0]["text"]
    # With large text on too, the extra button still leaves the top bar on the screen.
    page.locator(".button-text-size").tap()
    expect(page.locator("[data-read-aloud]")).to_be_visible()
    assert_fits(page, "/kiosk/seats")
    screenshot(page, f"layout-07-read-aloud-{'portrait' if viewport is PORTRAIT else 'landscape'}")
    assert page_problems.messages == []
