"""A staff member records a resident's signed paper consent, then their phone withdrawal, on
the resident's health page in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.browser.conftest import LANDSCAPE, LiveServer, PageProblems, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def viewport() -> dict[str, int]:
    return LANDSCAPE  # a desk screen, not the kiosk


def test_staff_record_a_paper_consent_then_a_withdrawal(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    with live_server.app.app_context(), database().read() as session:
        li = session.scalars(select(Resident.id).where(Resident.phone == "13800000002")).one()
    page.goto("/staff/sign-in")
    page.locator("#username").fill("zhao")
    page.locator("#password").fill("linli-staff-2026")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()

    page.goto(f"/staff/health/residents/{li}")
    consent = page.locator("#paper-consent")
    # Chromium itself refuses the form until the box is ticked.
    expect(consent.get_by_role("checkbox")).to_have_attribute("required", "")
    consent.get_by_role("checkbox").check()
    screenshot(page, "paper-consent-01-form")
    consent.get_by_role("button").click()
    expect(page.locator("main")).to_contain_text("已登记纸质同意")

    withdrawal = page.locator("#withdrawal")
    expect(withdrawal).to_contain_text("无法恢复")
    withdrawal.get_by_label("电话").check()
    withdrawal.get_by_role("checkbox").check()
    screenshot(page, "paper-consent-02-withdrawal")
    withdrawal.get_by_role("button").click()
    expect(page.locator("main")).to_contain_text("已删除 0 条")
    expect(page.locator("#paper-consent")).to_be_visible()
    assert page_problems.messages == []
