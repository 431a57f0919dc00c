"""End to end in real Chromium: a resident borrows a drill at the kiosk from a simulated
locker (linli_sim over the test broker, the worker's bridge recording what it reports), then
a staff member signs in to the console and finds the loan in the lending records."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update

from booking.core.clock import SystemClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.tools import Item
from devices.bridge import Bridge
from devices.fleet import link_status
from devices.models.device import Device, DeviceKind
from kiosk.extensions import database as app_database
from linli_sim.locker import LockerSim
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits

pytestmark = pytest.mark.browser

WAIT_S = 15.0


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def locker(
    live_server: LiveServer, mqtt_url: str, mqtt_site: str, tmp_path: Path
) -> Iterator[LockerSim]:
    """The demo centre moved onto this test's own site slug (unique on the shared broker),
    its drills in one registered locker that linli_sim plays, and the worker's bridge."""
    app = live_server.app
    device_id = f"{mqtt_site}-a"
    with app.app_context():
        database: Database = app_database()
    with database.write() as session:
        site = session.scalars(select(Site)).one()
        site.slug = mqtt_site
        # locker-a's tools go into the simulated locker; locker-b's wait at the counter.
        session.execute(
            update(Item).where(Item.locker_device_id == "locker-b")
            .values(locker_device_id=None, compartment=None)
        )  # fmt: skip
        session.execute(
            update(Item).where(Item.locker_device_id == "locker-a")
            .values(locker_device_id=device_id)
        )  # fmt: skip
        session.add(
            Device(
                site_id=site.id, device_id=device_id, kind=DeviceKind.LOCKER, name="Locker A",
                mqtt_password_hash="$7$unused", capabilities={"compartments": 8}, online=False,
                created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    app.config["SITE"] = mqtt_site
    app.config["MQTT_URL"] = mqtt_url
    # Open commands expire by the wall clock, which the simulated locker reads too.
    app.extensions["linli.clock"] = SystemClock()
    # As the worker runs it: batches committed in a process of their own, with the lending
    # and health reactions (so this test covers that path end to end).
    bridge = Bridge(
        database, mqtt_url, mqtt_site, client_id=f"linli-server-{mqtt_site}",
        commit_process_handlers="devices.ingest.handlers:default_handlers",
    ).start()  # fmt: skip
    # time_scale 0.1: the bolt moves in 50 ms; an unopened door relocks after 6 s.
    sim = LockerSim(device_id, mqtt_site, mqtt_url, tmp_path / "sim", time_scale=0.1)
    try:
        assert bridge.connected.is_set(), "the bridge could not connect to the test broker"
        sim.start()
        wait_until(lambda: device_online(database, device_id), "the locker's birth")
        # The kiosk offers a locker's tools only while the worker's link beats: a test that
        # opened the tool list at once found no "borrow" button (the others sign in first).
        wait_until(lambda: link_live(database, mqtt_site), "the device link's first beat")
        # And only tools the locker has said are in it: its state follows the birth, and
        # under a loaded suite the page could come before it (no "borrow" button).
        wait_until(lambda: tools_offered(database), "the locker's compartments reported")
        yield sim
    finally:
        sim.stop()
        bridge.stop()


def device_online(database: Database, device_id: str) -> bool:
    with database.read() as session:
        return bool(session.scalar(select(Device.online).where(Device.device_id == device_id)))


def tools_offered(database: Database) -> bool:
    with database.read() as session:
        site_id = session.scalars(select(Site.id)).one()
        return bool(link_status.items_to_offer(session, site_id=site_id, now=datetime.now(UTC)))


def link_live(database: Database, site: str) -> bool:
    with database.read() as session:
        return link_status.link_status(session, site=site, now=datetime.now(UTC)).live


def unlocked_compartment(sim: LockerSim) -> int | None:
    for compartment in sim.snapshot()["compartments"]:
        if compartment["lock"] == "unlocked":
            return int(compartment["n"])
    return None


def sign_in_as_wang(page: Page) -> None:
    """The demo's first resident signs in on the keypad."""
    page.goto("/kiosk/")
    page.locator(".button-sign-in").tap()
    # The sign-in page has loaded before a key is tapped.
    expect(page.locator("#sign-in-form")).to_be_visible()
    type_wangs_phone_and_pin(page)
    expect(page.locator(".greeting")).to_have_text("您好，王*英")


def type_wangs_phone_and_pin(page: Page) -> None:
    """On the sign-in page's keypad, as the demo's first resident."""
    tap_digits(page, "13800000001")
    tap_digits(page, "275139")
    page.locator(".button-submit").tap()


def test_a_drill_borrowed_at_the_kiosk_shows_up_in_the_consoles_lending_records(
    page: Page, live_server: LiveServer, locker: LockerSim, page_problems: PageProblems
) -> None:
    # The resident signs in on the keypad and borrows a drill.
    sign_in_as_wang(page)
    page.goto("/kiosk/tools")
    drill = page.locator(".tool-card", has_text="电钻")
    drill.locator(".button-borrow").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/tools/pickup/\d+"))
    screenshot(page, "lending-01-kiosk-opening")

    # At the locker: the compartment unlocks; the resident opens it, takes the drill, closes.
    n = wait_until(lambda: unlocked_compartment(locker), "a compartment to unlock")
    assert locker.person_opens(n)
    expect(page.locator("[data-tools-phase]")).to_have_attribute("data-tools-phase", "door_open")
    assert locker.person_takes_item(n)
    assert locker.person_closes(n)
    expect(page).to_have_url(re.compile(r"/kiosk/tools/loans/\d+/slip"))
    loan_id = int(re.search(r"/loans/(\d+)/", page.url).group(1))  # type: ignore[union-attr]
    screenshot(page, "lending-02-kiosk-slip")

    with live_server.app.app_context(), app_database().read() as session:
        loan = session.get_one(Loan, loan_id)
        assert loan.status is LoanStatus.ACTIVE
        tag = session.get_one(Item, loan.item_id).asset_tag

    # A staff member signs in to the console and finds the loan.
    page.goto("/staff/sign-in")
    page.locator("#username").fill("zhao")
    page.locator("#password").fill("linli-staff-2026")
    page.locator("form button[type=submit]").click()
    page.get_by_role("link", name="借还记录").click()
    expect(page).to_have_url(re.compile(r"/staff/lending$"))
    row = page.locator(f'tr[data-loan="{loan_id}"]')
    expect(row).to_contain_text("王秀英")
    expect(row).to_contain_text("电钻")
    expect(row).to_contain_text(tag)
    expect(row).to_contain_text("借出中")

    # Narrowed to the resident and the drills, it is still there; its item page names the
    # locker that confirmed the loan.
    page.locator("#resident").fill("王秀英")
    page.locator("#tool_type").select_option(label="电钻 Electric drill")
    page.locator(".lending-filter button[type=submit]").click()
    expect(page.locator("tr[data-loan]")).to_have_count(1)
    expect(page.locator(f'tr[data-loan="{loan_id}"]')).to_be_visible()
    screenshot(page, "lending-03-console-records")
    page.locator(f'tr[data-loan="{loan_id}"] a', has_text=tag).click()
    lent = page.locator('tr[data-event="lent"]')
    expect(lent).to_contain_text(f"设备 {locker.device_id}")
    expect(lent).to_contain_text(locker.device_id)
    screenshot(page, "lending-04-console-item")
    assert page_problems.messages == []


def test_a_tool_chosen_before_signing_in_is_marked_on_the_list_after_it(
    page: Page, locker: LockerSim, page_problems: PageProblems
) -> None:
    # Borrowing opens a locker, so signing in does not borrow by itself: the resident comes
    # back to the list at the tool they chose, and that card stands out from the others.
    page.goto("/kiosk/tools")
    drill = page.locator(".tool-card", has_text="电钻")
    drill_id = drill.get_attribute("id")
    drill.locator(".button-borrow").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/sign-in\?next="))
    type_wangs_phone_and_pin(page)
    expect(page).to_have_url(re.compile(rf"/kiosk/tools#{drill_id}$"))
    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    background = "el => getComputedStyle(el).backgroundColor"
    unmarked = "rgba(0, 0, 0, 0)"
    assert drill.evaluate(background) != unmarked
    others = page.locator(".tool-grid .tool-card").filter(has_not_text="电钻")
    assert others.count() > 0
    assert {others.nth(i).evaluate(background) for i in range(others.count())} == {unmarked}
    expect(drill.locator(".button-borrow")).to_be_in_viewport()
    screenshot(page, "lending-00-chosen-tool-after-sign-in")
    assert page_problems.messages == []


def test_a_drill_handed_straight_back_waits_on_screen_for_its_compartment_to_close(
    page: Page, locker: LockerSim, page_problems: PageProblems
) -> None:
    sign_in_as_wang(page)
    page.goto("/kiosk/tools")
    page.locator(".tool-card", has_text="电钻").locator(".button-borrow").tap()
    n = wait_until(lambda: unlocked_compartment(locker), "a compartment to unlock")
    assert locker.person_opens(n)
    assert locker.person_takes_item(n)
    # Lent as the drill leaves; the resident changes their mind with the door still open.
    expect(page).to_have_url(re.compile(r"/kiosk/tools/loans/\d+/slip"))
    page.goto("/kiosk/tools/mine")
    page.locator(".button-return").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/tools/return/\d+"))
    phase = page.locator("[data-tools-phase]")
    expect(phase).to_have_attribute("data-tools-phase", "closing")
    expect(phase).to_contain_text("正在关闭")
    expect(page.locator("[data-tools-ended]")).to_be_hidden()  # no refusal
    screenshot(page, "lending-05-kiosk-compartment-closing")

    # The door shuts and the bolt locks: the screen carries on by itself.
    assert locker.person_closes(n)
    expect(phase).to_have_attribute("data-tools-phase", "unlocked")
    assert locker.person_opens(n)
    assert locker.person_puts_item(n)
    assert locker.person_closes(n)
    expect(page).to_have_url(re.compile(r"/kiosk/tools/loans/\d+/condition"))
    assert page_problems.messages == []
