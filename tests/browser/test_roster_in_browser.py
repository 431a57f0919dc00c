"""An admin imports the residents' roster and prints their slips, in real Chromium at a desk
screen: the report names the bad rows, confirming imports the rest, the slips carry codes."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer, PageProblems, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def viewport() -> dict[str, int]:
    return {"width": 1366, "height": 768}  # a desk's screen


def roster() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["永盛社区居民花名册"])
    sheet.append(["姓名", "手机号", "出生年份", "楼栋", "单元", "房号", "独居", "紧急联系人",
                  "紧急联系人电话"])  # fmt: skip
    sheet.append(["周大福", "13700000001", 1946, "7栋", "1单元", "101", "是", "周小福",
                  "13700000091"])  # fmt: skip
    sheet.append(["吴小美", "13700000002", 1988, "7栋", "1单元", "102", "否", "", ""])
    sheet.append(["", "13700000003", 1950, "7栋", "2单元", "201", "", "", ""])
    sheet.append(["郑一", "1.38E+10", 1850, "7栋", "2单元", "202", "也许", "郑二", ""])
    sheet.append(["王秀英", "13800000001", 1950, "", "", "", "", "", ""])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_admin_imports_a_roster_and_prints_the_slips(
    page: Page, live_server: LiveServer, page_problems: PageProblems
) -> None:
    page.goto("/staff/sign-in")
    page.locator("#username").fill("admin")
    page.locator("#password").fill("linli-admin-2026")
    page.locator("button[type=submit]").last.click()
    expect(page.locator(".console-user")).to_be_visible()

    page.goto("/staff/residents")
    page.get_by_role("link", name="居民花名册：导入、导出、打印纸条").click()
    page.get_by_label("花名册文件（CSV 或 .xlsx）").set_input_files(
        {"name": "花名册.xlsx", "mimeType": "application/octet-stream", "buffer": roster()}
    )
    screenshot(page, "roster-01-upload")
    page.get_by_role("button", name="检查文件").click()
    expect(page.locator("main")).to_contain_text("3 行将被拒绝")
    expect(page.locator("#row-5")).to_contain_text("姓名缺失。")
    expect(page.locator("#row-6")).to_contain_text("1.38E+10")
    expect(page.locator("#row-6")).to_contain_text("出生年份不是合理的出生年份。")
    expect(page.locator("#row-6")).to_contain_text("独居须为“是”或“否”。")
    expect(page.locator("#row-7")).to_contain_text("该手机号已是本中心的居民。")
    screenshot(page, "roster-02-report")

    page.get_by_role("button", name="导入 2 位居民").click()
    expect(page.locator("main")).to_contain_text("已导入 2 位居民。")
    expect(page.locator("main")).to_contain_text("2 位居民还没有密码")
    page.get_by_label("楼栋").select_option("7栋")
    page.get_by_role("button", name="打印纸条").click()
    expect(page.locator(".code-slip")).to_have_count(2)
    expect(page.locator(".code-slip").first).to_contain_text("周*福")
    expect(page.locator(".slip-code").first).to_have_text(re.compile(r"^\d{4} \d{4}$"))
    screenshot(page, "roster-03-slips")
    assert page_problems.messages == []
