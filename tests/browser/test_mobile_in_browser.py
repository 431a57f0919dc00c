"""The phone page in Chromium at 360×740, as a resident's own phone shows it: sign in with the
code staff printed, book a study seat for tomorrow, see it, and cancel it after the
confirmation page (choosing a new PIN on the way, as the slip was for a forgotten one). Screenshots of each step are kept in test-artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from booking.core.models.sites import Site
from booking.people import one_time_codes
from booking.people.models.resident_codes import CodePurpose
from booking.people.models.residents import Resident
from booking.spaces.models.bookings import Booking, BookingStatus
from kiosk.extensions import database
from tests.browser.conftest import LiveServer, screenshot

pytestmark = pytest.mark.browser

PHONE = "13800000001"  # 王秀英 in the demo centre
TOMORROW = "2026-11-25"  # the clock fixture's Tuesday, plus one


@pytest.fixture
def viewport() -> dict[str, int]:
    return {"width": 360, "height": 740}


def issue_code(live_server: LiveServer) -> str:
    """The code on a slip staff print for 王秀英 (she forgot her PIN)."""
    with live_server.app.app_context(), database().write() as session:
        # The one centre, whatever its slug (a test with a simulated locker gives it its own).
        site = session.scalars(select(Site)).one()
        resident = session.scalars(select(Resident).where(Resident.phone == PHONE)).one()
        return one_time_codes.issue_code(
            session, resident_id=resident.id, site_id=site.id, purpose=CodePurpose.PIN_RESET,
            now=live_server.clock.now(), actor="staff:zhao",
        ).code  # fmt: skip


def booking_statuses(live_server: LiveServer) -> list[BookingStatus]:
    with live_server.app.app_context(), database().read() as session:
        return list(session.scalars(select(Booking.status).order_by(Booking.id)))


def fits_the_screen(page: Page) -> bool:
    """Nothing sticks out sideways: a phone page never scrolls left and right."""
    # Measured once the stylesheet is in: before it, the long feed address has no wrapping.
    page.wait_for_load_state("load")
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def sign_in_by_code_with_a_new_pin(page: Page, live_server: LiveServer) -> None:
    """From the start page: sent to sign in, the slip's code typed, a new PIN chosen."""
    code = issue_code(live_server)
    page.goto("/m/")
    expect(page.locator("#sign-in-form")).to_be_visible()  # sent to sign in first
    page.locator("#use-code").click()
    expect(page.locator("#code-form")).to_be_visible()
    page.locator("#phone").fill(PHONE)
    page.locator("#code").fill(f"{code[:4]} {code[4:]}")
    screenshot(page, "mobile-01-sign-in-by-code")
    page.locator("#code-form button[type=submit]").click()

    # The slip was for a forgotten PIN: a new one first, so the kiosk opens again too.
    expect(page.locator("#pin-form")).to_be_visible()
    page.locator("#pin").fill("385720")
    page.locator("#pin_again").fill("385720")
    page.locator("#pin-form button[type=submit]").click()
    expect(page.locator("#menu-seats")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "mobile-02-menu")


def book_seat_5_tomorrow_at_ten(page: Page, live_server: LiveServer) -> Locator:
    """From the menu: tomorrow's free seats at 10:00, seat 5 booked; its card under my bookings."""
    page.locator("#menu-seats").click()
    page.locator("#day").select_option(TOMORROW)
    page.locator("#show-seats").click()
    expect(page.locator("#day")).to_have_value(TOMORROW)
    page.locator("#start").select_option("10:00")
    page.locator("#show-seats").click()
    expect(page.locator("#free-seats")).to_contain_text("10:00")
    assert fits_the_screen(page)
    screenshot(page, "mobile-03-free-seats-tomorrow")
    page.locator('.book-seat[data-seat="5"]').click()

    expect(page.locator(".notice-success")).to_be_visible()
    card = page.locator("article[data-status=confirmed]")
    expect(card).to_contain_text("5号座")
    expect(card).to_contain_text("10:00")
    assert booking_statuses(live_server) == [BookingStatus.CONFIRMED]
    assert fits_the_screen(page)
    screenshot(page, "mobile-04-my-bookings")
    return card


def test_sign_in_by_code_book_a_seat_for_tomorrow_and_cancel_it(
    page: Page, live_server: LiveServer
) -> None:
    sign_in_by_code_with_a_new_pin(page, live_server)
    card = book_seat_5_tomorrow_at_ten(page, live_server)

    card.locator(".action-cancel").click()
    expect(page.locator("#confirm-cancel")).to_be_visible()
    screenshot(page, "mobile-05-cancel-asks-first")
    page.locator("#confirm-cancel").click()
    expect(page.locator(".notice-success")).to_be_visible()
    expect(page.locator("article[data-status=confirmed]")).to_have_count(0)
    assert booking_statuses(live_server) == [BookingStatus.CANCELLED]
    screenshot(page, "mobile-06-cancelled")


def test_the_calendar_link_is_shown_and_stops_when_revoked(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/m/sign-in")
    page.locator("#phone").fill(PHONE)
    page.locator("#pin").fill("275139")
    page.locator("#sign-in-form button[type=submit]").click()
    page.locator("#menu-calendar").click()
    page.locator("#make-feed").click()
    link = page.locator("#feed-url")
    expect(link).to_contain_text("webcal://")
    expect(page.locator("svg.qr-code")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "mobile-07-calendar-link")
    feed_path = "/m/feed/" + link.inner_text().split("/m/feed/", 1)[1]
    assert page.request.get(feed_path).status == 200
    page.locator("#revoke-feed").click()
    expect(page.locator("#make-feed")).to_be_visible()
    assert page.request.get(feed_path).status == 404
