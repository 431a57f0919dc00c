"""Every kiosk and console page passes axe-core in Chromium with no serious or critical violation.

axe-core (bundled by axe-playwright-python) runs on each page as a resident or staff member sees
it: the kiosk signed out and signed in as a demo resident, in Chinese and English, at the
kiosk's 1080×1920; the console as the demo admin, in Chinese and English, at 1366×768. The
console's pages are every GET rule of the staff blueprint (filled in with demo ids), so a page
added later is checked without touching this file. A failure lists every violation by page,
rule and element. One browser, one page per test, pages visited in turn: about a minute.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from kiosk.extensions import database
from tests.browser.conftest import PORTRAIT, LiveServer
from tests.browser.kiosk_pages import (
    RESIDENT_PHONE,
    RESIDENT_PIN,
    ask_for_a_new_pin,
    kiosk_signed_in_pages,
    kiosk_signed_out_pages,
    seed_page_subjects,
)
from tests.browser.test_mobile_in_browser import fits_the_screen
from tests.district_centres import (
    DISTRICT_ADMIN,
    DISTRICT_PASSWORD,
    add_centres,
    add_district_admin,
)

pytestmark = pytest.mark.browser

SERIOUS = ("serious", "critical")
# Moderate, but a page's outline for screen-reader users: headings must not skip a level.
ALSO_FAILING = ("heading-order",)
CONSOLE_VIEWPORT = {"width": 1366, "height": 768}
PHONE_VIEWPORT = {"width": 360, "height": 740}  # a small phone: the /m pages' narrowest
# Not pages: downloads, JSON polled by scripts, the alerts' event stream.
NOT_PAGES = (".csv", ".json", ".xlsx", ".ics", "/status", "/stream", "/static/")
# Pages only a district admin sees (the demo admin gets a 403): audited as one, below.
DISTRICT_PAGES = ("/staff/district",)

AXE = Axe()
# The WCAG A and AA rules, axe's best practices, and its experimental rules too: among them
# label-content-name-mismatch (a button's name must contain the words it shows, for people who
# speak to their screen), which found 76 buttons on the room timeline (issue 16).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice",
                   "experimental"],
    },
}  # fmt: skip


@pytest.fixture
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    if "phone" in request.node.name:
        return PHONE_VIEWPORT
    return CONSOLE_VIEWPORT if "console" in request.node.name else PORTRAIT


def serious_violations(page: Page) -> list[str]:
    """This page's serious and critical axe violations, one line per element."""
    results = AXE.run(page, options=AXE_OPTIONS)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in SERIOUS or violation["id"] in ALSO_FAILING:
            for node in violation["nodes"]:
                target = " ".join(str(part) for part in node["target"])
                found.append(f"{page.url}: {violation['id']} ({violation['impact']}) at {target}")
    return found


def audit(page: Page, path: str) -> list[str]:
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    # A page that sent the browser elsewhere would be checked under another's name.
    assert urlsplit(page.url).path == urlsplit(path).path, (path, page.url)
    page.wait_for_load_state("load")
    return serious_violations(page)


def fail_if_any(violations: list[str]) -> None:
    assert not violations, f"{len(violations)} serious or critical axe violations:\n" + "\n".join(
        violations
    )


@pytest.fixture
def demo_ids(live_server: LiveServer) -> Iterator[dict[str, Any]]:
    yield seed_page_subjects(live_server)


def switch_language(page: Page, button: str, lang: str) -> None:
    page.locator(button).first.click()
    expect(page.locator("html")).to_have_attribute("lang", lang)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_kiosk_page_has_no_serious_axe_violation(
    page: Page, live_server: LiveServer, demo_ids: dict[str, Any], lang: str
) -> None:
    page.goto("/kiosk/")
    if lang == "en":
        switch_language(page, ".button-language", "en")
    violations = []
    for path in kiosk_signed_out_pages():
        violations += audit(page, path)

    page.goto("/kiosk/sign-in")
    page.locator("#phone").fill(RESIDENT_PHONE)
    page.locator("#pin").fill(RESIDENT_PIN)
    page.locator("#pin").press("Enter")
    expect(page.locator(".greeting")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    pages = kiosk_signed_in_pages(demo_ids)
    for path in pages:
        violations += audit(page, path)
    assert len(pages) >= 18
    # The new-PIN page, which a resident reaches only when a PIN must be chosen.
    ask_for_a_new_pin(live_server)
    violations += audit(page, "/kiosk/pin")
    fail_if_any(violations)


def phone_signed_in_pages(ids: dict[str, Any]) -> list[str]:
    return ["/m/", "/m/bookings", f"/m/bookings/{ids['booking_id']}/cancel", "/m/seats",
            "/m/rooms", "/m/tools", "/m/tools/reserve", f"/m/tools/{ids['tool_type_id']}/reserve",
            "/m/messages", "/m/blood-pressure", "/m/calendar"]  # fmt: skip


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_phone_page_has_no_serious_axe_violation(
    page: Page, live_server: LiveServer, demo_ids: dict[str, Any], lang: str
) -> None:
    page.goto("/m/sign-in")
    if lang == "en":
        switch_language(page, ".topbar button", "en")
    violations = []
    for path in ("/m/sign-in", "/m/code"):
        violations += audit(page, path)

    page.goto("/m/sign-in")
    page.locator("#phone").fill(RESIDENT_PHONE)
    page.locator("#pin").fill(RESIDENT_PIN)
    page.locator("#pin").press("Enter")
    expect(page.locator("#sign-out")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    for path in phone_signed_in_pages(demo_ids):
        violations += audit(page, path)
        # At 360 px wide a phone page never scrolls sideways, in either language.
        if not fits_the_screen(page):
            violations.append(f"{path}: wider than the phone's screen")
    # The calendar page again with its link, copy button and QR code.
    page.goto("/m/calendar")
    page.locator("#make-feed").click()
    expect(page.locator("#feed-url")).to_be_visible()
    violations += serious_violations(page)
    # The new-PIN page, which a resident reaches only when a PIN must be chosen.
    ask_for_a_new_pin(live_server)
    violations += audit(page, "/m/pin")
    fail_if_any(violations)


def console_pages(live_server: LiveServer, ids: dict[str, Any]) -> list[str]:
    """Every GET page of the staff blueprint, its ids those of the demo's records."""
    app, found = live_server.app, []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("staff.") and "GET" in (rule.methods or ()):
                values = {name: ids[name] for name in rule.arguments if name in ids}
                if set(values) != set(rule.arguments):
                    continue  # a download's or a poll's argument (chart, bind id)
                url = rule.build(values)[1]  # type: ignore[index]
                if not url.endswith(NOT_PAGES) and "/static/" not in url:
                    found.append(url)
    return sorted(found)


def centre_admin_pages(live_server: LiveServer, ids: dict[str, Any]) -> list[str]:
    return [p for p in console_pages(live_server, ids) if not p.startswith(DISTRICT_PAGES)]


# In Chinese only: staff work in Chinese, and the Chinese pages are the ones that can lose a
# label's words (an empty translation); the English ones are the same markup with the msgids.
def test_every_console_page_has_no_serious_axe_violation(
    page: Page, live_server: LiveServer, demo_ids: dict[str, Any]
) -> None:
    violations = audit(page, "/staff/sign-in")
    page.locator("#username").fill("admin")
    page.locator("#password").fill("linli-admin-2026")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()

    pages = centre_admin_pages(live_server, demo_ids)
    assert len(pages) >= 40 and "/staff/admin/spaces/new" in pages
    for path in pages:
        if path != "/staff/sign-in":  # signed in, it sends staff to the console's home
            violations += audit(page, path)
    fail_if_any(violations)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_district_page_has_no_serious_axe_violation(
    page: Page, live_server: LiveServer, demo_ids: dict[str, Any], lang: str
) -> None:
    with live_server.app.app_context(), database().write() as session:
        add_centres(session, now=live_server.clock.now(), count=2)
        add_district_admin(session, now=live_server.clock.now())
    page.goto("/staff/sign-in")
    page.locator("#username").fill(DISTRICT_ADMIN)
    page.locator("#password").fill(DISTRICT_PASSWORD)
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()
    if lang == "en":
        switch_language(page, ".console-language button", "en")

    pages = [p for p in console_pages(live_server, demo_ids) if p.startswith(DISTRICT_PAGES)]
    assert "/staff/district" in pages
    violations = []
    for path in pages:
        violations += audit(page, path)
    # The trends' numbers, folded away at first, opened too.
    page.locator("section[data-trend] details summary").first.click()
    violations += serious_violations(page)
    fail_if_any(violations)
