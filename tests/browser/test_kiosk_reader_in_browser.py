"""The kiosk's card and QR reader in real Chromium at 1080×1920: a linli_sim reader and locker
over the test broker, the worker's bridge applying what they say, and a kiosk screen paired
with the reader by the code staff type at its setup page. A tapped card fills in who is
signing in and the PIN is still asked; a booking slip's code checks the booking in; a loan
slip's code opens the tool's compartment and the loan ends when the locker has it back;
any other code is refused in Chinese and then English, changing nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from booking.core.db import Database
from booking.core.models.sites import Site
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.tools import Item
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces import seats
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from devices.bridge import Bridge
from devices.ingest.handlers import default_handlers
from devices.kiosk_reader import pairing
from devices.models.device import Device, DeviceKind
from kiosk.extensions import database as app_database
from linli_sim.kiosk_reader import KioskReaderSim
from linli_sim.locker import LockerSim
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.test_axe_every_page import serious_violations
from tests.browser.test_lending_in_browser import (
    device_online,
    sign_in_as_wang,
    tap_digits,
    unlocked_compartment,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.mosquitto]

WANG_PHONE = "13800000001"


@dataclass
class Kiosk:
    database: Database
    site_id: int
    reader: KioskReaderSim
    locker: LockerSim


def _register(database: Database, site_id: int, device_id: str, kind: DeviceKind,
              capabilities: dict[str, int]) -> None:  # fmt: skip
    with database.write() as session:
        session.add(Device(
            site_id=site_id, device_id=device_id, kind=kind, name=device_id,
            mqtt_password_hash="$7$unused", capabilities=capabilities, online=False,
            created_at=datetime.now(UTC),
        ))  # fmt: skip


@pytest.fixture
def kiosk(
    live_server: LiveServer, mqtt_url: str, mqtt_site: str, tmp_path: Path
) -> Iterator[Kiosk]:
    """The demo centre under this test's own slug, its drills in a simulated locker, a
    simulated reader beside the screen, and the bridge; every clock is the test's one, so
    the time of day the suite runs at does not matter."""
    app, clock = live_server.app, live_server.clock
    with app.app_context():
        database: Database = app_database()
    with database.write() as session:
        site = session.scalars(select(Site)).one()
        site.slug = mqtt_site
        site_id = site.id
        session.execute(
            update(Item).where(Item.locker_device_id == "locker-b")
            .values(locker_device_id=None, compartment=None)
        )  # fmt: skip
        session.execute(
            update(Item).where(Item.locker_device_id == "locker-a")
            .values(locker_device_id=f"{mqtt_site}-a")
        )  # fmt: skip
    _register(database, site_id, f"{mqtt_site}-a", DeviceKind.LOCKER, {"compartments": 8})
    _register(database, site_id, f"{mqtt_site}-r", DeviceKind.KIOSK_READER, {})
    app.config.update(SITE=mqtt_site, MQTT_URL=mqtt_url)
    bridge = Bridge(
        database, mqtt_url, mqtt_site, clock=clock, handlers=default_handlers(), retry_delay=0.1
    ).start()
    locker = LockerSim(f"{mqtt_site}-a", mqtt_site, mqtt_url, tmp_path / "locker",
                       time_scale=0.1, clock=clock.now)  # fmt: skip
    reader = KioskReaderSim(f"{mqtt_site}-r", mqtt_site, mqtt_url, tmp_path / "reader",
                            resend_interval=0.5, clock=clock.now)  # fmt: skip
    try:
        assert bridge.connected.wait(10), "the bridge could not connect to the test broker"
        locker.start()
        reader.start()
        for device in (locker, reader):
            wait_until(lambda d=device: device_online(database, d.device_id), "a birth")
        yield Kiosk(database, site_id, reader, locker)
    finally:
        reader.stop()
        locker.stop()
        bridge.stop()


def pair_the_screen(page: Page, kiosk: Kiosk, live_server: LiveServer) -> None:
    """Staff took a pairing code in the console and type it at the kiosk's setup page."""
    with kiosk.database.write() as session:
        staff_id = session.scalars(
            select(StaffAccount.id).where(StaffAccount.site_id == kiosk.site_id)
        ).first()
        assert staff_id is not None
        code = pairing.offer_code(
            session, site_id=kiosk.site_id, device_id=kiosk.reader.device_id,
            staff_id=staff_id, now=live_server.clock.now(),
        )  # fmt: skip
    page.goto("/kiosk/reader/setup")
    expect(page.locator("#reader-setup-form")).to_be_visible()
    tap_digits(page, code)
    page.locator(".button-submit").tap()
    expect(page.locator("#reader-paired")).to_contain_text(kiosk.reader.device_id)
    screenshot(page, "reader-00-screen-paired")
    page.goto("/kiosk/")


def test_a_card_tapped_on_the_reader_fills_in_the_resident_and_still_asks_the_pin(
    page: Page, live_server: LiveServer, kiosk: Kiosk, page_problems: PageProblems
) -> None:
    pair_the_screen(page, kiosk, live_server)
    kiosk.reader.read_card("CARD0001")  # the demo's 王秀英
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in/card$"))
    expect(page.locator("[data-testid=card-name]")).to_have_text("王*英")
    expect(page.locator("[data-testid=card-phone]")).to_contain_text(WANG_PHONE[-4:])
    # Nobody is signed in by the card alone.
    expect(page.locator(".button-sign-out")).to_have_count(0)
    screenshot(page, "reader-01-card-asks-pin")
    assert serious_violations(page) == []

    # A wrong PIN is refused like at the phone sign-in; the right one signs her in.
    expect(page.locator("#card-sign-in-form")).to_be_visible()
    tap_digits(page, "111111")
    page.locator(".button-submit").tap()
    expect(page.locator("#card-sign-in-error")).to_be_visible()
    expect(page.locator(".button-sign-out")).to_have_count(0)
    tap_digits(page, "275139")
    page.locator(".button-submit").tap()
    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    screenshot(page, "reader-02-card-signed-in")

    # A card nobody holds says so, in Chinese and then in English.
    kiosk.reader.read_card("NOBODY-77")
    expect(page).to_have_url(re.compile(r"/kiosk/reader/result$"))
    expect(page.locator(".reader-said-zh")).to_contain_text("这张卡")
    expect(page.locator(".reader-said-en")).to_contain_text("This card is not known here")
    screenshot(page, "reader-03-card-unknown")
    assert serious_violations(page) == []
    assert page_problems.messages == []


def test_a_booking_slips_code_checks_the_booking_in_and_a_stranger_code_changes_nothing(
    page: Page, live_server: LiveServer, kiosk: Kiosk, page_problems: PageProblems
) -> None:
    now = live_server.clock.now()
    with kiosk.database.write() as session:
        wang = session.scalars(select(Resident.id).where(Resident.phone == WANG_PHONE)).one()
        seat = session.scalars(select(Seat.id).order_by(Seat.id)).first()
        assert seat is not None
        booking = seats.book_seat(session, resident_id=wang, seat_id=seat, starts_at=now,
                                  ends_at=now + timedelta(hours=1), now=now)  # fmt: skip
        booking_id = booking.id
    # The slip at the kiosk shows the code; what it carries is the booking's token.
    sign_in_as_wang(page)
    page.goto(f"/kiosk/bookings/{booking_id}")
    expect(page.locator("svg.qr-code")).to_be_visible()
    screenshot(page, "reader-04-booking-slip")
    page.locator(".button-sign-out").tap()
    expect(page.locator(".button-sign-in")).to_be_visible()
    with kiosk.database.read() as session:
        token = session.get_one(Booking, booking_id).slip_token
        assert token is not None
        code = f"LINLI:B:{token}"
    pair_the_screen(page, kiosk, live_server)

    # Another code (a bus ticket, a forged slip) is refused and nothing is checked in.
    kiosk.reader.scan("LINLI:B:" + "A" * 32)
    expect(page.locator(".reader-said-zh")).to_be_visible()
    expect(page.locator(".reader-said-en")).to_contain_text("not a slip of this centre")
    screenshot(page, "reader-05-code-unknown")
    with kiosk.database.read() as session:
        assert session.get_one(Booking, booking_id).status is BookingStatus.CONFIRMED

    page.goto("/kiosk/")
    kiosk.reader.scan(code)
    expect(page.locator("#reader-result")).to_have_class(re.compile("notice-info"))
    expect(page.locator(".reader-said-en")).to_contain_text("You are checked in")
    screenshot(page, "reader-06-booking-checked-in")
    with kiosk.database.read() as session:
        assert session.get_one(Booking, booking_id).status is BookingStatus.CHECKED_IN

    # The same slip again: the booking is checked in already, and nothing changes.
    page.goto("/kiosk/")
    kiosk.reader.scan(code)
    expect(page.locator("#reader-result")).to_have_class(re.compile("notice-error"))
    assert page_problems.messages == []


def test_a_loan_slips_code_starts_the_return_and_the_loan_ends_when_the_locker_has_it(
    page: Page, live_server: LiveServer, kiosk: Kiosk, page_problems: PageProblems
) -> None:
    locker = kiosk.locker
    # Wang borrows a drill; her slip carries the loan's code.
    sign_in_as_wang(page)
    page.goto("/kiosk/tools")
    page.locator(".tool-card", has_text="电钻").locator(".button-borrow").tap()
    n = wait_until(lambda: unlocked_compartment(locker), "a compartment to unlock")
    assert locker.person_opens(n) and locker.person_takes_item(n) and locker.person_closes(n)
    expect(page).to_have_url(re.compile(r"/kiosk/tools/loans/\d+/slip"))
    loan_id = int(re.search(r"/loans/(\d+)/", page.url).group(1))  # type: ignore[union-attr]
    expect(page.locator("#loan-slip svg.qr-code")).to_be_visible()
    screenshot(page, "reader-07-loan-slip")
    page.locator(".button-sign-out").tap()
    expect(page.locator(".button-sign-in")).to_be_visible()
    with kiosk.database.read() as session:
        token = session.get_one(Loan, loan_id).slip_token
        assert token is not None
    pair_the_screen(page, kiosk, live_server)

    # Days later she brings it back with the slip: scanning it opens its compartment.
    kiosk.reader.scan(f"LINLI:L:{token}")
    expect(page).to_have_url(re.compile(r"/kiosk/reader/return/\d+$"))
    n = wait_until(lambda: unlocked_compartment(locker), "the compartment to unlock")
    assert locker.person_opens(n)
    expect(page.locator("[data-tools-phase]")).to_have_attribute("data-tools-phase", "door_open")
    screenshot(page, "reader-08-loan-return-open")
    assert serious_violations(page) == []
    # Not ended yet: only the locker's word ends a loan.
    with kiosk.database.read() as session:
        assert session.get_one(Loan, loan_id).status is LoanStatus.ACTIVE
    assert locker.person_puts_item(n) and locker.person_closes(n)
    expect(page).to_have_url(re.compile(r"/kiosk/reader/result$"))
    expect(page.locator(".reader-said-en")).to_contain_text("The tool is back")
    screenshot(page, "reader-09-loan-returned")
    with kiosk.database.read() as session:
        assert session.get_one(Loan, loan_id).status is LoanStatus.RETURNED

    # The slip again: the loan has ended, and nothing opens.
    page.goto("/kiosk/")
    kiosk.reader.scan(f"LINLI:L:{token}")
    expect(page.locator(".reader-said-en")).to_contain_text("already been returned")
    assert unlocked_compartment(locker) is None
    assert page_problems.messages == []
