"""A resident's day with their phone in Chromium at 360×740, tools included: a drill borrowed
at the kiosk from a simulated locker (linli_sim over the test broker), then on the phone:
signing in with the code staff printed, a study seat booked for tomorrow, a ladder reserved
for tomorrow morning, the drill kept longer, the reservation cancelled, and the messages page
with its choices. Every phone page fits the screen; screenshots are kept in
test-artifacts/screenshots/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select, update

from booking.lending.models.loans import Loan
from booking.lending.models.reservations import ReservationStatus, ToolReservation
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from kiosk.extensions import database
from linli_sim.locker import LockerSim
from tests.browser.conftest import PORTRAIT, LiveServer, PageProblems, screenshot
from tests.browser.test_lending_in_browser import (  # noqa: F401 (locker: a fixture)
    locker,
    sign_in_as_wang,
    unlocked_compartment,
    wait_until,
)
from tests.browser.test_mobile_in_browser import (
    book_seat_5_tomorrow_at_ten,
    fits_the_screen,
    sign_in_by_code_with_a_new_pin,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def viewport() -> dict[str, int]:
    return {"width": 360, "height": 740}


def borrow_a_drill_at_the_kiosk(browser: Browser, live_server: LiveServer, sim: LockerSim) -> int:
    """At the kiosk's own screen: signed in on the keypad, a drill taken from the locker."""
    context = browser.new_context(base_url=live_server.url, viewport=PORTRAIT, locale="zh-CN",
                                  has_touch=True)  # fmt: skip
    context.set_default_timeout(10_000)
    kiosk = context.new_page()
    try:
        sign_in_as_wang(kiosk)
        kiosk.goto("/kiosk/tools")
        kiosk.locator(".tool-card", has_text="电钻").locator(".button-borrow").tap()
        n = wait_until(lambda: unlocked_compartment(sim), "a compartment to unlock")
        assert sim.person_opens(n) and sim.person_takes_item(n) and sim.person_closes(n)
        expect(kiosk).to_have_url(re.compile(r"/kiosk/tools/loans/\d+/slip"))
        return int(re.search(r"/loans/(\d+)/", kiosk.url).group(1))  # type: ignore[union-attr]
    finally:
        context.close()


def keep_the_ladders_in_the_second_locker(live_server: LiveServer) -> None:
    """The locker fixture sends the second locker's tools to the counter; its ladders go back:
    reserving ahead needs only that a tool is kept in a locker (the hold starts tomorrow)."""
    with live_server.app.app_context(), database().write() as session:
        ladder = session.scalars(select(ToolType.id).where(ToolType.code == "ladder")).one()
        session.execute(
            update(Item).where(Item.tool_type_id == ladder)
            .values(locker_device_id="locker-b", compartment=Item.id % 8 + 1)
        )  # fmt: skip


def reservation_statuses(live_server: LiveServer) -> list[ReservationStatus]:
    with live_server.app.app_context(), database().read() as session:
        return list(session.scalars(select(ToolReservation.status).order_by(ToolReservation.id)))


def renewals_of(live_server: LiveServer, loan_id: int) -> int:
    with live_server.app.app_context(), database().read() as session:
        return session.get_one(Loan, loan_id).renewals


def test_a_seat_a_ladder_reserved_a_drill_kept_longer_and_the_reservation_cancelled(
    browser: Browser, page: Page, live_server: LiveServer, locker: LockerSim,  # noqa: F811
    page_problems: PageProblems,
) -> None:  # fmt: skip
    # The simulated locker's commands expire by the wall clock: the fixture runs the app on
    # it for the pickup; the phone's day after it is on the test's own clock (a Tuesday).
    loan_id = borrow_a_drill_at_the_kiosk(browser, live_server, locker)
    live_server.app.extensions["linli.clock"] = live_server.clock
    keep_the_ladders_in_the_second_locker(live_server)

    sign_in_by_code_with_a_new_pin(page, live_server)
    book_seat_5_tomorrow_at_ten(page, live_server)

    page.goto("/m/")
    page.locator("#menu-reserve-tool").click()
    ladder = page.locator("article", has_text="折叠梯")
    expect(ladder.get_by_role("link", name="预约以后借用")).to_be_visible()
    assert fits_the_screen(page)
    screenshot(page, "mobile-tools-01-reserve-a-tool")
    ladder.get_by_role("link", name="预约以后借用").click()
    expect(page.locator("#reserve-form")).to_be_visible()
    page.get_by_text("上午 9:00 至 12:00").click()
    assert fits_the_screen(page)
    screenshot(page, "mobile-tools-02-day-and-time")
    page.locator("#reserve-submit").click()
    expect(page.locator(".notice-success")).to_contain_text("预约成功")
    reservation = page.locator("article[id^=reservation-]")
    expect(reservation).to_contain_text("已预约：11-25")
    assert reservation_statuses(live_server) == [ReservationStatus.WAITING]

    drill = page.locator(f"#loan-{loan_id}")
    expect(drill).to_contain_text("电钻")
    assert fits_the_screen(page)
    screenshot(page, "mobile-tools-03-my-tools-and-reservation")
    drill.get_by_role("button", name="续借").click()
    expect(page.locator(".notice-success")).to_contain_text("续借成功")
    assert renewals_of(live_server, loan_id) == 1
    screenshot(page, "mobile-tools-04-drill-renewed")

    page.locator("article[id^=reservation-]").get_by_role("button", name="取消这个预约").click()
    expect(page.locator(".notice-success")).to_contain_text("已取消")
    expect(page.locator("article[id^=reservation-]")).to_have_count(0)
    assert reservation_statuses(live_server) == [ReservationStatus.CANCELLED]
    assert fits_the_screen(page)
    screenshot(page, "mobile-tools-05-reservation-cancelled")

    page.goto("/m/")
    page.locator("#menu-messages").click()
    expect(page.locator("#choice-loan_overdue")).to_be_visible()
    page.locator("#choice-loan_overdue button").click()
    expect(page.locator("#choice-loan_overdue")).to_contain_text("不发到我的手机")
    assert fits_the_screen(page)
    screenshot(page, "mobile-tools-06-my-messages")
    assert page_problems.messages == []
