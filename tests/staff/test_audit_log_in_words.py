"""The audit log reads in words, Chinese first: every action the code base writes has its
label in kiosk/staff/audit_words.py (found by scanning the sources, so a new code without
words fails here), and a page holding one entry of each shows no code and no English word."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select

from booking.core import audit
from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from booking.people.models.residents import Resident
from kiosk.extensions import database
from kiosk.staff import audit_words
from tests.conftest import StaffActions
from tests.staff.test_console_words_in_chinese import (
    ADMIN_PASSWORD,
    raw_status_words,
    raw_words_in,
    visible_text,
)

ROOT = Path(__file__).resolve().parents[2]
ACTION_CODE = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)+")
# Calls that pass an audit action as a plain argument, not as ``action=``.
WRITERS_BY_POSITION = {"audit_changes", "_audit", "_answer"}
ACTION_NAMES = {"action", "audit_action"}


def _codes_in(node: ast.expr) -> Iterator[str]:
    """The code a value writes: "a.b", either branch of "a" if … else "b", or an f-string
    as a template with "{}" where its value goes."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if ACTION_CODE.fullmatch(node.value):
            yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _codes_in(node.body)
        yield from _codes_in(node.orelse)
    elif isinstance(node, ast.JoinedStr):
        template = "".join(
            part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
        # Not a subject such as f"space:{space.id}" passed beside the action.
        if ACTION_CODE.fullmatch(template.replace("{}", "value")):
            yield template


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def written_codes() -> set[str]:
    """Every audit action in booking/, devices/ and kiosk/: ``action=`` and ``audit_action=``
    arguments and defaults, the first arguments of the helpers that pass one on, and
    module constants ``ACTION = "…"`` and ``…_ACTION = "…"``."""
    found: set[str] = set()
    for top in ("booking", "devices", "kiosk"):
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg in ACTION_NAMES:
                            found |= set(_codes_in(keyword.value))
                    if _callee(node) in WRITERS_BY_POSITION:
                        for arg in node.args:
                            found |= set(_codes_in(arg))
                elif isinstance(node, ast.arguments):
                    positional = node.args[len(node.args) - len(node.defaults) :]
                    pairs = list(zip(positional, node.defaults, strict=True))
                    pairs += list(zip(node.kwonlyargs, node.kw_defaults, strict=True))
                    for arg, default in pairs:
                        if arg.arg in ACTION_NAMES and default is not None:
                            found |= set(_codes_in(default))
                elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and (t.id == "ACTION" or t.id.endswith("_ACTION"))
                    for t in node.targets
                ):
                    found |= set(_codes_in(node.value))
    return found


def every_code() -> list[str]:
    """One code of every kind the log can hold: each fixed code, and each patterned one with
    every value its map has words for."""
    codes = list(audit_words.ACTION)
    for template, (_label, values) in audit_words.PATTERNED.items():
        codes += [template.replace("{}", value) for value in values]
    return codes


def test_the_scan_finds_codes_however_they_are_written() -> None:
    codes = written_codes()
    assert {
        "resident.enrolled",  # action="…"
        "admin.site_changed",  # checks.audit_changes(…, "…", …)
        "booking.booked_for_resident",  # a module's _audit(…, "…", …)
        "lending.reserve",  # the API's _answer(…, "…")
        "lending.pickup_for_resident",  # a default audit_action
        "lending.hold_for_resident",  # audit_action="…"
        "locker.opened_for_maintenance",  # ACTION = "…"
        "api_token.used",  # USE_ACTION = "…"
        "resident.card_bind_refused",  # "…" if … else "…"
        "resident.code_issued.{}",  # an f-string
        "{}.sign_in_failed",
    } <= codes
    # A lending event's action is an enum member, never taken for an audit code.
    assert not any(code.startswith("LendingAction") for code in codes)


def test_every_action_written_has_its_words_and_every_word_is_for_a_written_action() -> None:
    codes = written_codes()
    templates = {code for code in codes if "{}" in code}
    assert sorted(codes - templates - set(audit_words.ACTION)) == [], "add them to ACTION"
    assert sorted(templates - set(audit_words.PATTERNED)) == [], "add them to PATTERNED"
    # No words for a code nothing writes any more.
    assert sorted(set(audit_words.ACTION) - codes) == []
    assert sorted(set(audit_words.PATTERNED) - templates) == []


def test_a_patterned_code_reads_with_its_value_in_words(app: Flask) -> None:
    with app.test_request_context(), force_locale("en"):
        assert audit_words.action_words("resident.code_issued.pin_reset") == audit_words.Words(
            "One-time code issued (forgotten PIN)"
        )
        assert audit_words.action_words("staff.sign_in_failed").text == "Wrong sign-in: Staff"
        # A value the map has no words for is an unknown code, not half a sentence.
        assert audit_words.action_words("resident.code_issued.by_pigeon") == audit_words.Words(
            "Other action", "resident.code_issued.by_pigeon"
        )


@pytest.fixture
def every_action_logged(app: Flask, demo: None, clock: FrozenClock) -> dict[str, str]:
    """One entry of every code, by each kind of actor in turn, about each kind of subject,
    with details that are themselves codes; returns the resident's masked name and number."""
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        wang = session.scalars(select(Resident).where(Resident.phone == "13800000001")).one()
        actors = ["staff:admin", f"resident:{wang.id}", "system:retention", "system",
                  "api_token:3", "device:locker-a", "client:127.0.0.1", "kiosk"]  # fmt: skip
        subjects = [f"resident:{wang.id}", "booking:7", "tool_reservation:2", "device:locker-a",
                    "alert:4", "space:1", "roster:ab12", ""]  # fmt: skip
        details = [
            {"status": "cancelled", "resident_id": wang.id},
            {"purpose": "pin_reset", "expires_at": "2026-11-24T10:00:00+00:00"},
            {"reason": "moved_away", "kind": "bp_terminal"},
            {"name": ["Reading room", "Quiet room"], "sms": True, "scopes": ["bookings:read"]},
            {"condition": "parts_missing", "session_counter_was": 12},
        ]
        for n, code in enumerate(every_code()):
            audit.record(
                session, action=code, actor=actors[n % len(actors)], now=clock.now(),
                site_id=site.id, subject=subjects[n % len(subjects)],
                detail=details[n % len(details)],
            )  # fmt: skip
        return {"masked": wang.masked_name, "number": str(wang.id)}


def _all_pages(client: FlaskClient) -> str:
    text, page = [], 1
    while True:
        html = client.get(f"/staff/audit?page={page}").get_data(as_text=True)
        text.append(visible_text(html.split('<table class="table audit-log">')[1]))
        if 'rel="next"' not in html:
            return " ".join(text)
        page += 1


def test_every_action_reads_in_chinese_with_no_code_and_no_english_status_word(
    client: FlaskClient, staff_auth: StaffActions, every_action_logged: dict[str, str]
) -> None:
    assert staff_auth.sign_in("admin", ADMIN_PASSWORD).status_code == 302
    text = _all_pages(client)
    assert raw_words_in(text, raw_status_words()) == set()
    shown_codes = {code for code in every_code() if code in text}
    assert shown_codes == set()
    assert "其他" not in text  # every action, actor, subject and detail key had its words
    # People read as people: the staff's name, the resident masked as elsewhere.
    assert "孙主任 (站长)" in text and "admin" not in text
    assert every_action_logged["masked"] in text
    # A resident named in the details too: "居民：王*英（#1）", not "居民编号：1".
    resident = f"{every_action_logged['masked']}（#{every_action_logged['number']}）"
    assert f"居民：{resident}" in text and "居民编号" not in text
    assert "系统" in text
    # Statuses, purposes, reasons and kinds that are codes read through their word maps.
    for words in ("已取消", "忘记密码", "迁出", "血压测量终端", "缺少配件", "2026-11-24 10:00"):
        assert words in text, words


def test_an_unknown_action_reads_as_other_with_its_code_in_small_type(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, demo: None, clock: FrozenClock
) -> None:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        audit.record(session, action="robot.waved", actor="robot:r2", now=clock.now(),
                     site_id=site.id, subject="planet:3", detail={"arm_count": 2})  # fmt: skip
    assert staff_auth.sign_in("admin", ADMIN_PASSWORD).status_code == 302
    html = client.get("/staff/audit").get_data(as_text=True)
    row = html.split('<table class="table audit-log">')[1]
    for code in ("robot.waved", "robot:r2", "planet:3", "arm_count"):
        assert f'<small class="muted audit-code">{code}</small>' in row
    assert "其他操作" in visible_text(row)
