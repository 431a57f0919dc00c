"""Every word the console shows in Chinese comes from the catalogue: no page of the demo,
rendered in Chinese, shows a raw status code ("available", "good") or a snake_case key
("days_overdue: 3"), and every message the code and templates use has its Chinese.

<code> holds what staff type or copy letter for letter (usernames, MQTT topics, tokens), so it
is left out. The audit log is not set aside: it reads in words (kiosk/staff/audit_words.py) and
has no <code> at all.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.demo import past_bookings
from booking.lending import jobs as lending_jobs
from booking.lending import operations as lending
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.tools import Item
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from devices.fleet import provisioning
from kiosk.extensions import database
from tests.conftest import StaffActions
from tests.kiosk.test_kiosk_translations import extracted, load_po

ADMIN_PASSWORD = "linli-admin-2026"
# Pages that are not HTML, or that stream, or that sign out.
NOT_A_PAGE = re.compile(r"\.(csv|xlsx|json)$|/stream$|/sign-out$|^/staff/static/")
# ASCII words: a token runs through digits, "-" and "_" so that "locker-a" or "XINHUA-DRILL-001"
# (names and codes staff gave things) are one token and never match a status word.
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")
# Words that are raw codes wherever they stand alone in Chinese text, beyond the enums' values.
RAW_WORDS = {"good", "true", "false", "none", "null"}


def _all_enums(cls: type[enum.Enum]) -> Iterator[type[enum.Enum]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_enums(sub)


def raw_status_words() -> set[str]:
    """Every value of every string enum the domain and devices store (item status, device
    condition, booking status …): shown to staff, each must have been put into words."""
    words = set(RAW_WORDS)
    for cls in set(_all_enums(enum.StrEnum)):
        if cls.__module__.split(".")[0] in ("booking", "devices"):
            words |= {m.value for m in cls if re.fullmatch(r"[a-z][a-z0-9_]*", m.value)}
    return words


class _Text(HTMLParser):
    """What a person reads: text outside <script>, <style> and <code>, no tags or attributes."""

    HIDDEN = ("script", "style", "code")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


def raw_words_in(text: str, status_words: set[str]) -> set[str]:
    return {
        token
        for token in TOKEN.findall(text)
        if "_" in token or token.lower() in status_words and token.islower()
    }


@pytest.fixture
def demo_with_history(app: Flask, demo: None, clock: FrozenClock) -> None:
    """The demo centre with its weeks of history, and a ladder lent at the counter today that
    the overdue jobs find a week later, so the records hold an escalated loan ("days_overdue")
    and its alert."""
    with app.app_context():
        with database().write() as session:
            past_bookings.seed_history(session, now=clock.now())
            zhao = session.scalars(
                select(StaffAccount).where(StaffAccount.username == "zhao")
            ).one()
            ladder = session.scalars(
                select(Item.id).where(Item.asset_tag == "XINHUA-LONG-LADDER-001")
            ).one()
            liu = session.scalars(select(Resident.id).where(Resident.phone == "13800000005")).one()
            lending.lend_at_counter(
                session, staff=zhao, item_id=ladder, resident_id=liu, now=clock.now()
            )
            # The board then shows the lockers' compartments and the terminal.
            for device_id, kind in (("locker-a", "locker"), ("bp-1", "bp_terminal")):
                provisioning.register_device(
                    session, zhao.site_id, device_id, kind, device_id, clock.now()
                )
        # Once to mark the late loans overdue, once more to escalate them.
        for _ in range(2):
            lending_jobs.run_due(database(), now=clock.now() + timedelta(days=7))


def console_pages(client: FlaskClient, app: Flask) -> dict[str, str]:
    """Every console GET page reachable by links from the overview (each URL rule once, and
    each with a query string once more), plus a resident's health page."""
    with app.app_context(), database().read() as session:
        wang = session.scalars(select(Resident.id).where(Resident.phone == "13800000001")).one()
        escalated = session.scalars(
            select(LendingEvent.item_id).where(
                LendingEvent.action == LendingAction.OVERDUE_ESCALATED
            )
        ).first()
    assert escalated is not None, "the overdue jobs escalated no loan"
    adapter = app.url_map.bind("localhost")
    queue = [
        "/staff/",
        f"/staff/lending/items/{escalated}",
        f"/staff/health/residents/{wang}",
        "/staff/lending?status=active",
    ]
    seen: set[str] = set()
    visits: dict[tuple[str, bool], int] = {}
    pages: dict[str, str] = {}
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        parts = urlsplit(url)
        if NOT_A_PAGE.search(parts.path):
            continue
        rule, _args = adapter.match(parts.path, method="GET", return_rule=True)
        key = (rule.rule, bool(parts.query))
        if visits.get(key, 0) >= 1:
            continue
        visits[key] = 1
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        pages[url] = page
        for href in re.findall(r'href="(/staff[^"#]*)"', page):
            queue.append(href.replace("&amp;", "&"))
    return pages


def test_no_console_page_in_chinese_shows_a_raw_status_word_or_code(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, demo_with_history: None
) -> None:
    assert staff_auth.sign_in("admin", ADMIN_PASSWORD).status_code == 302
    pages = console_pages(client, app)
    # The walk reached the pages the issue found raw words on.
    assert {"/staff/lending", "/staff/admin/tools", "/staff/devices", "/staff/alerts"} <= set(pages)
    assert any(url.startswith("/staff/lending/items/") for url in pages)
    # The audit log, with the demo's entries, is read like every page, nothing of it hidden.
    assert "/staff/audit" in pages and "<code" not in pages["/staff/audit"]
    status_words = raw_status_words()
    assert {"available", "good", "fine", "active", "maintenance"} <= status_words
    raw = {
        url: sorted(w)
        for url, page in pages.items()
        if (w := raw_words_in(visible_text(page), status_words))
    }
    assert raw == {}
    # The escalated loans' history was among them, in words: "逾期天数：8", not "days_overdue: 8".
    assert any("逾期天数：" in visible_text(page) for page in pages.values())


def test_the_walk_would_see_a_raw_word() -> None:
    """The check itself: the words the issue found are caught, names and codes are not."""
    words = {"available", "good"}
    page = '<p>状况 good</p><p>days_overdue: 3</p><p title="available">智能柜 locker-a</p>'
    page += "<script>var available = 1;</script><code>alert.resolved</code>"
    assert raw_words_in(visible_text(page), words) == {"good", "days_overdue"}


def test_the_tool_column_is_headed_as_a_tool_not_a_person(
    client: FlaskClient, staff_auth: StaffActions, demo: None
) -> None:
    assert staff_auth.sign_in("admin", ADMIN_PASSWORD).status_code == 302
    page = visible_text(client.get("/staff/admin/tools").get_data(as_text=True))
    assert "姓名" not in page and "工具名称" in page
    assert "可借" in page


def test_every_message_used_by_the_code_and_templates_has_its_chinese() -> None:
    """What `pybabel extract -F babel.cfg` finds (the messages.pot): each msgid translated."""
    found = {
        message if isinstance(message, str) else message[0]
        for message in extracted([("kiosk/**.py", "python"), ("kiosk/templates/**.html", "jinja2")])
    }
    chinese = {
        m.id if isinstance(m.id, str) else m.id[0]: m.string for m in load_po("zh_CN") if m.id
    }
    missing = sorted(m for m in found if not chinese.get(m))
    assert missing == [], "run `linli i18n update --zh new.json` with the Chinese of each"
