"""The console live, in real Chromium, against a simulated locker over the test broker with the
worker's bridge running: a forced-open door appears in the alerts inbox without a reload, and
the device board shows the locker offline once its Last Will arrives."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from devices.bridge import Bridge
from devices.fleet import provisioning
from devices.ingest.handlers import default_handlers
from kiosk.extensions import database
from linli_sim.locker import LockerSim
from tests.browser.conftest import LANDSCAPE, LiveServer, PageProblems, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def viewport() -> dict[str, int]:
    return LANDSCAPE  # a desk screen, not the kiosk


@dataclass
class Centre:
    locker: LockerSim
    device_id: str


@pytest.fixture
def centre(
    live_server: LiveServer, mqtt_url: str, mqtt_site: str, tmp_path: Path
) -> Iterator[Centre]:
    """The demo centre under a slug of this test's own (the broker is shared), its locker
    registered and simulated, and the worker's bridge applying what the locker says."""
    app = live_server.app
    # Poll and refresh quickly so the test does not wait for the production intervals.
    app.config.update(
        STAFF_ALERT_POLL_SECONDS=0.2, STAFF_BOARD_REFRESH_SECONDS=1, MQTT_URL=mqtt_url
    )
    device_id = f"{mqtt_site}-a"
    with app.app_context():
        with database().write() as session:
            site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
            site.slug = mqtt_site
            provisioning.register_device(
                session, site.id, device_id, "locker", "储物柜 A", live_server.clock.now()
            )
        bridge = Bridge(
            database(),
            mqtt_url,
            mqtt_site,
            clock=live_server.clock,
            handlers=default_handlers(),
            client_id=f"linli-server-{mqtt_site}",
        ).start()
    # The locker keeps the server's time: a locker whose clock is off raises a fault of its own.
    locker = LockerSim(
        device_id, mqtt_site, mqtt_url, tmp_path / "locker", compartments=4,
        clock=live_server.clock.now,
    )  # fmt: skip
    try:
        locker.start()
        yield Centre(locker, device_id)
    finally:
        locker.stop()
        bridge.stop()


def sign_in_as_staff(page: Page) -> None:
    page.goto("/staff/sign-in")
    page.locator("#username").fill("zhao")
    page.locator("#password").fill("linli-staff-2026")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()


def test_a_forced_open_door_appears_in_the_inbox_without_a_reload(
    page: Page, centre: Centre, page_problems: PageProblems
) -> None:
    sign_in_as_staff(page)
    page.goto("/staff/alerts")
    expect(page.locator("#alert-live")).to_have_text("新警报会自动出现在这里。")
    page.evaluate("window.stillTheSamePage = true")
    expect(page.locator(".alert-item")).to_have_count(0)

    assert centre.locker.force_open(3)

    urgent = page.locator(".alert-item[data-rank='0']")
    expect(urgent).to_have_count(1, timeout=15_000)
    expect(urgent).to_contain_text("智能柜门被撬开")
    expect(urgent).to_contain_text("3 号柜格门被撬开")  # the summary in the console's language
    expect(urgent.locator(".badge")).to_have_text("紧急")  # in words, not only red
    expect(page.locator("#alert-live")).to_contain_text("智能柜门被撬开")
    assert page.evaluate("window.stillTheSamePage") is True
    screenshot(page, "console-alerts-live-forced-open")

    # The sound can be turned off, and the choice outlives the page.
    sound = page.locator("#alert-sound")
    expect(sound).to_have_attribute("aria-pressed", "true")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "false")
    page.reload()
    expect(page.locator("#alert-sound")).to_have_attribute("aria-pressed", "false")
    assert page_problems.messages == []


def test_the_device_board_shows_a_locker_going_offline(
    page: Page, centre: Centre, page_problems: PageProblems
) -> None:
    sign_in_as_staff(page)
    page.goto("/staff/devices")
    board = page.locator(f"#device-{centre.device_id}")
    expect(board).to_have_attribute("data-online", "yes", timeout=15_000)
    expect(board.locator(".device-status")).to_contain_text("在线")
    expect(board.locator("tbody tr")).to_have_count(4)
    screenshot(page, "console-devices-online")

    centre.locker.link.go_offline()  # the socket dies without DISCONNECT: the Will goes out

    expect(board).to_have_attribute("data-online", "no", timeout=15_000)
    expect(board.locator(".device-status")).to_contain_text("离线")
    expect(board).to_contain_text("离线，无法开门")
    screenshot(page, "console-devices-offline")
    assert page_problems.messages == []


def test_a_compartment_opens_for_maintenance_with_a_reason(
    page: Page, centre: Centre, live_server: LiveServer, page_problems: PageProblems
) -> None:
    sign_in_as_staff(page)
    page.goto("/staff/devices")
    row = page.locator(f"#device-{centre.device_id}-2")
    expect(row.locator("button")).to_be_visible(timeout=15_000)
    row.locator("textarea").fill("更换电钻电池")
    row.locator("button").click()

    expect(page.locator(".notice")).to_contain_text("2 号柜格已打开", timeout=15_000)
    assert centre.locker.compartment(2)["lock"] in ("unlocked", "open")
    with live_server.app.app_context(), database().read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "locker.opened_for_maintenance")
        ).one()
        assert entry.actor == "staff:zhao"
        assert entry.detail["reason"] == "更换电钻电池"
    screenshot(page, "console-devices-maintenance-open")
    assert page_problems.messages == []
