"""Measure now, in a real browser: the resident presses "measure now" at the kiosk, a simulated
terminal (linli_sim over the test broker, the worker's bridge) measures, and the waiting
screen turns into the result in large words; after sign-out the values are gone."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.core.clock import SystemClock
from booking.core.db import Database
from booking.core.models.sites import Site
from devices.bridge import Bridge
from devices.ingest.handlers import default_handlers
from devices.models.device import Device, DeviceKind
from kiosk.extensions import database as app_database
from linli_sim.bp_terminal import BpTerminalSim
from tests.browser.conftest import LiveServer, PageProblems, screenshot
from tests.browser.keypad import tap_digits
from tests.browser.test_kiosk_in_browser import CONTRAST_BELOW_7

pytestmark = pytest.mark.browser

BP = "/kiosk/services/blood-pressure"


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def device_online(database: Database, device_id: str) -> bool:
    with database.read() as session:
        return bool(session.scalar(select(Device.online).where(Device.device_id == device_id)))


@pytest.fixture
def terminal(
    live_server: LiveServer, mqtt_url: str, mqtt_site: str, tmp_path: Path
) -> Iterator[BpTerminalSim]:
    """The demo centre on this test's own site slug, with one BP terminal that linli_sim plays."""
    app = live_server.app
    device_id = f"{mqtt_site}-bp"
    with app.app_context():
        database: Database = app_database()
    with database.write() as session:
        site = session.scalars(select(Site)).one()
        site.slug = mqtt_site
        session.add(
            Device(
                site_id=site.id, device_id=device_id, kind=DeviceKind.BP_TERMINAL, name="血压计",
                mqtt_password_hash="$7$unused", capabilities={"card_reader": True}, online=False,
                created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    app.config["SITE"] = mqtt_site
    # Pairing windows are judged by the clock the bridge uses: the wall clock.
    app.extensions["linli.clock"] = SystemClock()
    bridge = Bridge(
        database, mqtt_url, mqtt_site, handlers=default_handlers(),
        client_id=f"linli-server-{mqtt_site}",
    ).start()  # fmt: skip
    # time_scale 0.05: the cuff takes 1.5 s instead of 30.
    sim = BpTerminalSim(device_id, mqtt_site, mqtt_url, tmp_path / "sim", time_scale=0.05)
    try:
        assert bridge.connected.is_set(), "the bridge could not connect to the test broker"
        sim.start()
        wait_until(lambda: device_online(database, device_id), "the terminal's birth")
        yield sim
    finally:
        sim.stop()
        bridge.stop()


def sign_in(page: Page) -> None:
    page.goto("/kiosk/sign-in")
    tap_digits(page, "13800000001275139")
    page.locator(".button-submit").tap()
    expect(page.locator(".greeting")).to_have_text("您好，王*英")


def press_measure_now(page: Page) -> None:
    page.goto(BP)
    page.locator(".bp-measure-button").tap()
    expect(page).to_have_url(re.compile(r"/measure/\d+$"))
    expect(page.locator("[data-bp-phase]")).to_have_text("正在等待血压计……")
    expect(page.locator("[data-bp-wait]")).to_have_attribute("data-bp-ready", "true")


def test_measure_now_shows_the_result_in_large_words_and_nothing_after_sign_out(
    page: Page, live_server: LiveServer, terminal: BpTerminalSim, page_problems: PageProblems
) -> None:
    sign_in(page)
    press_measure_now(page)
    screenshot(page, "health-01-waiting")

    terminal.measure({"systolic": 186, "diastolic": 112, "pulse": 88})

    expect(page).to_have_url(re.compile(r"/readings/\d+$"))
    expect(page.locator("[data-bp-systolic]")).to_have_text("186")
    expect(page.locator("[data-bp-diastolic]")).to_have_text("112")
    expect(page.locator("[data-bp-category]")).to_have_text("很高（3级）")
    expect(page.locator("[data-bp-advice]")).to_contain_text("工作人员")
    expect(page.locator("[data-bp-result]")).to_have_class(re.compile("bp-level-4"))
    number_px = page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('[data-bp-systolic]')).fontSize)"
    )
    assert number_px >= 96
    assert page.evaluate(CONTRAST_BELOW_7) == []
    screenshot(page, "health-02-result")

    page.locator(".button-sign-out").tap()
    expect(page).to_have_url(re.compile(r"/kiosk/$"))
    page.go_back()
    expect(page.locator("body")).not_to_contain_text("186")
    page.goto(BP + "/history")
    expect(page.locator("body")).not_to_contain_text("186")
    assert page_problems.messages == []


def test_a_failed_measurement_says_why_on_the_waiting_screen(
    page: Page, live_server: LiveServer, terminal: BpTerminalSim, page_problems: PageProblems
) -> None:
    sign_in(page)
    press_measure_now(page)
    terminal.measure(error="cuff_error")
    expect(page.locator("[data-bp-message]")).to_contain_text("袖带没能测量")
    expect(page.locator("[data-bp-open]")).to_be_hidden()
    screenshot(page, "health-03-failed")
    assert page_problems.messages == []


def test_the_history_draws_the_trend_chart(
    page: Page, live_server: LiveServer, terminal: BpTerminalSim, page_problems: PageProblems
) -> None:
    sign_in(page)
    for systolic in (128, 152):
        press_measure_now(page)
        terminal.measure({"systolic": systolic, "diastolic": 84})
        expect(page).to_have_url(re.compile(r"/readings/\d+$"))
    page.goto(BP + "/history")
    expect(page.locator(".bp-point-systolic")).to_have_count(2)
    expect(page.locator(".bp-table tbody tr")).to_have_count(2)
    screenshot(page, "health-04-history")
    assert page_problems.messages == []


def test_waiting_at_the_terminal_does_not_count_as_idle(
    page: Page, live_server: LiveServer, terminal: BpTerminalSim, page_problems: PageProblems
) -> None:
    page.clock.install()
    sign_in(page)
    press_measure_now(page)
    expect(page.locator("body")).to_have_attribute("data-idle-ready", "true")
    # Ninety seconds of nobody touching the screen (the idle limit is sixty): each status
    # poll that finds the pairing still open tells the idle timer the resident is still here.
    for _ in range(60):
        page.clock.run_for(1500)
        time.sleep(0.05)
    expect(page.locator("#idle-overlay")).to_be_hidden()
    expect(page.locator(".greeting")).to_have_text("您好，王*英")
    expect(page.locator("[data-bp-phase]")).to_be_visible()
    assert page_problems.messages == []
