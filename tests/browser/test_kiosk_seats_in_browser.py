"""Booking a study seat in a real browser: sign in on the keypad, tap a seat on the map, read
the slip, check in."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits

pytestmark = pytest.mark.browser


def test_a_resident_books_a_seat_on_the_map_and_checks_in(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/kiosk/")
    page.locator(".tile-study").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/seats$"))
    expect(page.locator(".seat-map .seat")).to_have_count(24)
    expect(page.locator("#seat-summary")).to_contain_text("24 个座位空闲")
    screenshot(page, "seats-01-map")

    # Tapping a seat while signed out asks for a sign-in, then comes back to the seat.
    page.locator('.seat-map [data-seat="5"]').tap()
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in\?next="))
    tap_digits(page, "13800000001")
    tap_digits(page, "275139")
    page.locator(".button-submit").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/seats/\d+\?"))
    expect(page.locator("#seat-state")).to_contain_text("这个时间空闲")
    screenshot(page, "seats-02-seat-5")

    page.locator(".button-book").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/bookings/\d+$"))
    expect(page.locator(".notice")).to_contain_text("您的座位已预约好了")
    expect(page.locator(".booking-what")).to_contain_text("自习室，5号座")
    expect(page.locator(".booking-status")).to_have_text("已预约")
    expect(page.locator("svg.qr-code")).to_be_visible()
    expect(page.locator("#slip-reference")).to_have_text(re.compile(r"^XINHUA-\d{6}$"))
    screenshot(page, "seats-03-slip")

    # The booking starts in the slot under way, so check-in is open now.
    page.locator(".action-check-in").tap()
    expect(page.locator(".notice")).to_contain_text("签到成功")
    expect(page.locator(".booking-status")).to_have_text("已签到")
    expect(page.locator(".action-step-out")).to_be_visible()
    screenshot(page, "seats-04-checked-in")

    page.locator(".button-home").tap()
    page.locator(".tile-study").tap()
    expect(page.locator('.seat-map [data-seat="5"]')).to_have_attribute("data-state", "mine")
    screenshot(page, "seats-05-map-with-mine")
    assert page_problems.messages == []


def test_a_seat_tile_is_a_big_enough_target(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/kiosk/seats")
    box = page.locator('.seat-map [data-seat="1"]').bounding_box()
    assert box is not None
    assert box["width"] >= 64 and box["height"] >= 64
    for choice in page.locator(".choices a").all()[:5]:
        size = choice.bounding_box()
        assert size is not None and size["height"] >= 64
    assert page_problems.messages == []


def test_a_resident_books_a_room_from_the_timeline(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/kiosk/sign-in?next=/kiosk/rooms")
    tap_digits(page, "13800000002")
    tap_digits(page, "386204")
    page.locator(".button-submit").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/rooms$"))
    screenshot(page, "rooms-01-timeline")

    dance = page.locator(".room-head", has_text="舞蹈室").get_attribute("data-room")
    page.locator(f'.slot[data-room="{dance}"][data-start="14:00"] a').tap()
    expect(page.locator("#room-start")).to_have_text("14:00")
    page.locator(".choices-headcount label", has_text="8").first.tap()
    page.locator(".choices-purpose label", has_text="跳舞或锻炼").tap()
    screenshot(page, "rooms-02-form")
    page.locator(".button-book").tap()
    expect(page.locator(".notice")).to_contain_text("房间已预约好了")
    expect(page.locator(".booking-group")).to_contain_text("8 人")
    screenshot(page, "rooms-03-slip")

    page.goto("/kiosk/rooms")
    expect(page.locator(f'.slot[data-room="{dance}"][data-start="14:00"]')).to_have_attribute(
        "data-state", "taken"
    )
    assert page_problems.messages == []


def test_with_two_study_rooms_a_resident_taps_a_room_then_sees_its_seats(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    from booking.core.models.sites import Site
    from booking.spaces.models.seats import Seat
    from booking.spaces.models.spaces import Space, SpaceKind
    from kiosk.extensions import database

    with live_server.app.app_context(), database().write() as session:
        site = session.scalars(select(Site)).one()
        second = Space(
            site_id=site.id, code="study-2", kind=SpaceKind.STUDY, name_zh="自习室二",
            name_en="Study room 2", capacity=4,
        )  # fmt: skip
        second.seats = [Seat(number=n, map_row=0, map_col=n - 1) for n in range(1, 5)]
        session.add(second)
    page.goto("/kiosk/")
    page.locator(".tile-study").tap()
    expect(page.locator(".room-choice")).to_have_count(2)
    # Measured once the page's stylesheets are in: the cards are there before they are styled.
    page.wait_for_load_state("load")
    for card in page.locator(".room-choice").all():
        box = card.bounding_box()
        assert box is not None and box["height"] >= 64
    screenshot(page, "seats-06-room-choice")

    page.locator(".room-choice", has_text="自习室二").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/seats\?room=\d+$"))
    expect(page.locator(".seat-map .seat")).to_have_count(4)
    expect(page.locator("#seat-summary")).to_contain_text("4 个座位空闲")
    # A later start time keeps the room.
    page.locator(".choices-times a").nth(2).tap()
    expect(page.locator(".seat-map .seat")).to_have_count(4)
    expect(page).to_have_url(re.compile(r"room=\d+"))
    assert page_problems.messages == []
