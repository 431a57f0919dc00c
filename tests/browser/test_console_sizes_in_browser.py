"""The console at a desk screen (1366x768) in Chinese reads at arm's length: body text and the
text of its form controls of at least 16 px, targets (checkboxes, radios, buttons, selects,
links in tables) of at least 24 x 24 px, and no page wider than the screen, on the busiest
pages."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.core import audit
from booking.core.models.sites import Site
from booking.demo import past_bookings
from booking.people.models.residents import Resident
from booking.spaces.models.spaces import Space
from devices.fleet import provisioning
from devices.ingest import dead_letters
from devices.protocol.messages import Reason
from kiosk.extensions import database
from tests.browser.conftest import LiveServer, PageProblems, screenshot

pytestmark = pytest.mark.browser

DESK = {"width": 1366, "height": 768}
MIN_TEXT_PX = 16
MIN_TARGET_PX = 24

# Every element that holds words of its own, outside the chart's SVG (drawn to scale), with
# its computed font size; every target with its box. Hidden ones are left out.
MEASURE = """() => {
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden";
  };
  const texts = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg, script, style, noscript") || !shown(el)) continue;
    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own.length) continue;
    texts.push({
      what: el.tagName.toLowerCase() + (el.className ? "." + el.className : ""),
      text: own[0].textContent.trim().slice(0, 30),
      px: parseFloat(getComputedStyle(el).fontSize),
    });
  }
  // What staff type or choose is read too: a browser's own select or text box is 13 px.
  const controls = "select, textarea, input:not([type=checkbox]):not([type=radio]):not([type=hidden])";
  for (const el of document.body.querySelectorAll(controls)) {
    if (!shown(el)) continue;
    texts.push({
      what: el.tagName.toLowerCase() + (el.name ? " " + el.name : ""),
      text: (el.value || "").slice(0, 30),
      px: parseFloat(getComputedStyle(el).fontSize),
    });
  }
  const targets = [];
  const selector = "input[type=checkbox], input[type=radio], button, select, "
    + "input[type=submit], table a";
  for (const el of document.querySelectorAll(selector)) {
    if (!shown(el)) continue;
    const box = el.getBoundingClientRect();
    targets.push({
      what: el.tagName.toLowerCase() + (el.type ? "[" + el.type + "]" : "")
        + (el.name ? " " + el.name : "") + " " + (el.textContent || "").trim().slice(0, 20),
      width: box.width, height: box.height,
    });
  }
  return {
    texts, targets,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  };
}"""


@pytest.fixture
def viewport() -> dict[str, int]:
    return DESK


def sign_in_as_admin(page: Page) -> None:
    page.goto("/staff/sign-in")
    page.locator("#username").fill("admin")
    page.locator("#password").fill("linli-admin-2026")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()


def busy_pages(live_server: LiveServer) -> dict[str, str]:
    """The pages a worker reads most, made busy with the demo's weeks of history and the
    centre's two lockers and blood-pressure terminal on the device board."""
    now = live_server.clock.now()
    with live_server.app.app_context():
        with database().write() as session:
            past_bookings.seed_history(session, now=now)
            site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
            for device_id, kind, name in (
                ("locker-a", "locker", "储物柜 A"),
                ("locker-b", "locker", "储物柜 B"),
                ("bp-1", "bp_terminal", "血压计"),
            ):
                provisioning.register_device(session, site.id, device_id, kind, name, now)
            # A message locker-a sent three times and the bridge refused: one letter, counted.
            for _ in range(3):
                dead_letters.record(
                    session, topic="linli/v1/xinhua/locker-a/event", reason=Reason.SCHEMA,
                    payload=b'{"v": 1, "type": "door_closed", "compartment": "one"}',
                    received_at=now, device_id="locker-a", detail="compartment: type failed",
                )  # fmt: skip
            # The audit log shows a code it has no words for in a secondary line, measured too.
            audit.record(session, action="future.unknown_action", actor="system", now=now,
                         site_id=site.id, subject="future:1", detail={"new_key": 1})  # fmt: skip
    with live_server.app.app_context(), database().read() as session:
        wang = session.scalars(select(Resident.id).where(Resident.phone == "13800000001")).one()
        space = session.scalars(select(Space.id).order_by(Space.id)).first()
    return {
        "resident": f"/staff/residents/{wang}",
        "resident_lending": f"/staff/lending/residents/{wang}",
        "health_resident": f"/staff/health/residents/{wang}",
        "lending_records": "/staff/lending",
        "devices_board": "/staff/devices",
        "admin_space": f"/staff/admin/spaces/{space}",
        "admin_tools": "/staff/admin/tools",
        "bookings": "/staff/bookings",
        "audit_log": "/staff/audit",
        # Forms whose choices are selects of the console's own field macro.
        "admin_devices": "/staff/admin/devices",
        "health": "/staff/health",
        "lending_policy": "/staff/admin/policy",
    }


def too_small(measured: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        "text": [t for t in measured["texts"] if t["px"] < MIN_TEXT_PX],
        "targets": [
            t
            for t in measured["targets"]
            if t["width"] < MIN_TARGET_PX or t["height"] < MIN_TARGET_PX
        ],
    }


def test_busy_console_pages_have_16px_text_24px_targets_and_fit_the_screen(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    sign_in_as_admin(page)
    found: dict[str, Any] = {}
    for name, url in busy_pages(live_server).items():
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        measured = page.evaluate(MEASURE)
        screenshot(page, f"console-{name}-1366x768")
        assert measured["texts"] and measured["targets"], f"{name}: nothing measured"
        if name == "devices_board":
            assert page.locator(".device").count() == 3
            expect(page.locator("ul.refused li")).to_contain_text("共收到 3 次")
        if name == "lending_records":
            assert page.locator("table.table tbody tr").count() >= 20, "the records are busy"
        small = too_small(measured)
        wide = measured["scrollWidth"] > measured["innerWidth"]
        if small["text"] or small["targets"] or wide:
            found[name] = {**small, "wider_than_screen": measured["scrollWidth"] if wide else None}
    assert found == {}
    assert page_problems.messages == []
