"""One deployment, two centres: staff of one centre neither read nor change the other's data.

Signed in as the admin of "dongfang" (centre A, so that admin pages are walked too), every
console page and API route the app has (from ``app.url_map``) is called with the ids of the
demo centre "xinhua" (centre B, with its residents, rooms, bookings, tools, loans, a locker,
alerts, blood-pressure readings, weekly classes and messages) in its path:

- no answer shows anything of B (its residents' names and phones, its rooms', tools' and
  locker's names),
- no answer is a server error, a page naming one of B's things is not found or refused,
- and after every POST, PUT and DELETE the database is what it was (the audit log aside).

A route the walk does not know how to fill fails it: a new route is covered, or exempt below
with its reason. On SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Table, select, text
from werkzeug.routing import Rule

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity
from booking.core import sites
from booking.core.clock import FrozenClock
from booking.core.db import Base
from booking.demo import centre as demo_centre
from booking.demo import history as demo_history
from booking.people.models.memberships import ResidentMembership
from devices.fleet import provisioning
from kiosk.extensions import database
from kiosk.staff.insights.labelled import CHARTS
from tests.conftest import StaffActions
from tests.demo_app import demo_app_on
from tests.staff.district_sites import DONGFANG_RESIDENT, PASSWORD, add_dongfang

CATALOGUE = Path(__file__).parents[2] / "kiosk/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
B_LOCKER = "xh-locker-9"
B_LOCKER_NAME = "新华三号柜"

# Routes the walk leaves out, each with why. Everything else under /staff and /api is walked.
EXEMPT = {
    "staff.static": "the console's CSS and scripts: the same for every centre",
    "api-docs.openapi_json": "the API's description: no centre's data",
    "staff.alerts_stream": (
        "an endless event stream; its other-centre rule is tests/staff/test_staff_alerts_inbox.py"
    ),
    "staff.sign_in": "signing in: no centre's data (and the walk is signed in already)",
    "staff.sign_out": "would end the walk's own session",
    "api_staff.sign_out": "would end the walk's own session",
    "staff.change_password": "the walker's own password: no centre's data",
    "staff.choose_language": "the walker's own language: no centre's data",
}

# Path parameters filled with a thing of B: the table it comes from, and the column.
B_ROWS = {
    "space_id": ("spaces", "id"),
    "booking_id": ("bookings", "id"),
    "tool_type_id": ("tool_types", "id"),
    "item_id": ("items", "id"),
    "alert_id": ("staff_alerts", "id"),
    "device_id": ("devices", "device_id"),
    "suspension_id": ("booking_suspensions", "id"),
    "loan_id": ("loans", "id"),
    "door_session_id": ("door_sessions", "id"),
    "staff_id": ("staff_accounts", "id"),
    "reservation_id": ("tool_reservations", "id"),
    "series_id": ("booking_series", "id"),
    "bind_id": ("card_binds", "id"),
    "token_id": ("api_tokens", "id"),
    "mismatch_id": ("lending_mismatches", "id"),
}
# What the demo centre (with its history and the locker and alert added here) has: the rest
# (a pickup under way, a card being bound, an API token…) is walked with an id no row has.
MADE_BY_THE_DEMO = {"space_id", "booking_id", "tool_type_id", "item_id", "alert_id", "device_id",
                    "loan_id", "staff_id", "series_id"}  # fmt: skip
NONE_AT_B = str(10**6)
FILLED = {*B_ROWS, "site_id", "compartment", "chart", "table", "token", "resident_id", "seat_id"}

# How a change of B's is refused: not found, forbidden, the form sent back (400, 409, 422), or
# the console's way, back to its page with the reason in a notice (302, 303). The rows
# compared before and after are what shows that nothing changed.
REFUSED = {302, 303, 400, 403, 404, 409, 422}

# Rows still open to action, preferred where B has one: an alert acknowledged, a loan
# returned, a booking approved could not be refused for being settled already.
OPEN_TO_ACTION = {
    "staff_alerts": "status = 'open'",
    "bookings": "status IN ('pending', 'confirmed')",
    "loans": "returned_at IS NULL",
}
# What the audit log, sessions and sign-in bookkeeping record of the walk itself.
WALKERS_TRACES = {"audit_log", "staff_sessions", "sign_in_failures", "worker_leases", "heartbeats"}
# Form fields a POST may read, filled with B's things where they name one.
FORM_FIELDS = ("reason", "note", "name", "name_zh", "name_en", "code", "date", "day", "kind",
               "on_date", "starts_at", "ends_at", "message", "channel", "confirm", "condition")  # fmt: skip


@pytest.fixture
def district(
    empty_database_url: str, tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    # The demo's history made by its own rules, but three weeks of loans and one of readings
    # rather than seven and six: as much of each kind of row, a third of the setup time.
    monkeypatch.setattr(demo_history, "LOAN_WEEKS", 3)
    monkeypatch.setattr(demo_history, "READING_WEEKS", 1)
    for app in demo_app_on(empty_database_url, tmp_path, clock):
        add_dongfang(app, clock)
        with app.app_context(), database().write() as session:
            xinhua = sites.get_site_by_slug(session, "xinhua")
            members = list(
                session.scalars(
                    select(ResidentMembership.resident_id)
                    .where(ResidentMembership.site_id == xinhua.id)
                    .order_by(ResidentMembership.resident_id)
                )
            )
            zone = demo_history.ZoneInfo(xinhua.timezone)
            today = clock.now().astimezone(zone).date()
            demo_history.seed(
                session, site=xinhua, people=members,
                consenting_phones=demo_centre.HEALTH_CONSENTS,
                this_monday=today - timedelta(days=today.weekday()), now=clock.now(),
            )  # fmt: skip
            provisioning.register_device(
                session, xinhua.id, B_LOCKER, "locker", B_LOCKER_NAME, clock.now(), compartments=4
            )
            # An alert still open (the history's are all followed up): one B's staff could act on.
            alerts.raise_alert(
                session, site_id=xinhua.id, kind="locker.door_left_open",
                severity=AlertSeverity.WARNING, summary=f"{B_LOCKER}: compartment 3 left open",
                subject=f"device:{B_LOCKER}", now=clock.now(),
            )  # fmt: skip
        yield app


def b_values(app: Flask) -> tuple[dict[str, str], list[str]]:
    """B's ids for every path parameter, and the words that would show B's things."""
    tables = Base.metadata.tables
    with app.app_context(), database().read() as session:
        b = sites.get_site_by_slug(session, "xinhua").id
        a = sites.get_site_by_slug(session, "dongfang").id
        values = {"site_id": str(b), "compartment": "1", "chart": next(iter(CHARTS)),
                  "table": "today", "token": "x" * 32}  # fmt: skip
        for param, (name, column) in B_ROWS.items():
            table = tables[name]
            query = select(table.c[column]).where(table.c.site_id == b).order_by(table.c.id.desc())
            found = session.scalar(query.where(text(OPEN_TO_ACTION.get(name, "1 = 1"))))
            found = found if found is not None else session.scalar(query)
            values[param] = str(found) if found is not None else NONE_AT_B
        members = tables["resident_memberships"]
        residents = tables["residents"]
        b_only = select(members.c.resident_id).where(members.c.site_id == b).except_(
            select(members.c.resident_id).where(members.c.site_id == a)
        )  # fmt: skip
        people = session.execute(
            select(residents.c.id, residents.c.name, residents.c.phone)
            .where(residents.c.id.in_(b_only))
            .order_by(residents.c.id)
        ).all()
        values["resident_id"] = str(people[0].id)
        spaces, seats = tables["spaces"], tables["seats"]
        values["seat_id"] = str(
            session.scalar(
                select(seats.c.id).join(spaces, spaces.c.id == seats.c.space_id)
                .where(spaces.c.site_id == b)
            )
        )  # fmt: skip
        words = [p.name for p in people] + [p.phone for p in people] + [B_LOCKER_NAME]
        for name in ("spaces", "tool_types"):
            words += session.scalars(
                select(tables[name].c.name_zh).where(tables[name].c.site_id == b)
            )
    # A name that is also one of the console's own words ("自习室", the kind of space) shows
    # nothing of B when a page of A says it.
    catalogue = CATALOGUE.read_text(encoding="utf-8")
    return values, sorted({word for word in words if word not in catalogue})


def walked_rules(app: Flask) -> list[Rule]:
    return [
        rule for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/staff", "/api")) and rule.endpoint not in EXEMPT
    ]  # fmt: skip


def fill(rule: Rule, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m[1]], rule.rule)


def snapshot(app: Flask) -> dict[str, list[str]]:
    """Every row of every table but the walker's own traces."""
    with app.app_context(), database().read() as session:
        return {
            name: sorted(repr(tuple(row)) for row in session.execute(select(table)))
            for name, table in Base.metadata.tables.items()
            if name not in WALKERS_TRACES and isinstance(table, Table)
        }


def shown_text(response: Any) -> str:
    """What an answer shows, whatever its kind: JSON unescaped, a spreadsheet unzipped."""
    if response.is_json:
        return json.dumps(response.get_json(), ensure_ascii=False)
    body: bytes = response.get_data()
    if body.startswith(b"PK"):  # xlsx: its cells are in the zip's XML
        with zipfile.ZipFile(io.BytesIO(body)) as sheet:
            return " ".join(sheet.read(name).decode() for name in sheet.namelist())
    return body.decode()


def walker(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    actions = StaffActions(client)
    assert actions.sign_in("df.admin", PASSWORD).status_code == 302
    return client, actions.csrf_token()


def test_every_route_is_walked_or_exempt_with_a_reason(app: Flask) -> None:
    """About the routes alone, so on the suite's plain app: a path parameter the walk has no
    value of B for fails here, naming the route."""
    unfilled = {
        rule.endpoint: sorted(set(rule.arguments) - FILLED)
        for rule in walked_rules(app)
        if set(rule.arguments) - FILLED
    }
    assert unfilled == {}, "give the walk a value of centre B for these, or exempt the route"
    assert set(EXEMPT) <= {rule.endpoint for rule in app.url_map.iter_rules()}
    assert len(walked_rules(app)) > 120


def test_staff_of_one_centre_see_and_change_nothing_of_another(
    district: Flask, clock: FrozenClock
) -> None:
    values, words = b_values(district)
    assert set(values) == FILLED
    # The things of B the walk looks for are there to be found.
    assert DONGFANG_RESIDENT not in words and len(words) > 20
    missing = [name for param, (name, _c) in B_ROWS.items()
               if param in MADE_BY_THE_DEMO and values[param] == NONE_AT_B]  # fmt: skip
    assert missing == [], "centre B has none of these to walk with"
    client, csrf = walker(district)
    before = snapshot(district)
    shown, server_errors, found_by_id, not_refused = {}, [], [], []
    for rule in walked_rules(district):
        url = fill(rule, values)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method == "GET":
                # A day and a period, for the routes that need one to show anything.
                now = clock.now()
                response = client.get(url, query_string={
                    "date": now.date().isoformat(), "starts_at": now.isoformat(),
                    "resident_id": values["resident_id"],
                    "ends_at": (now + timedelta(hours=2)).isoformat(),
                })  # fmt: skip
            else:
                form = (
                    {field: "1" for field in FORM_FIELDS}
                    | {
                        key: values[key]
                        for key in (
                            "resident_id",
                            "space_id",
                            "seat_id",
                            "tool_type_id",
                            "item_id",
                        )  # fmt: skip
                    }
                    | {"site": "xinhua", "csrf_token": csrf}
                )
                if rule.rule.startswith("/api"):
                    response = client.open(url, method=method, json=form,
                                           headers={"X-CSRFToken": csrf})  # fmt: skip
                else:
                    response = client.open(url, method=method, data=form)
            text = shown_text(response)
            response.close()
            if response.status_code >= 500:
                server_errors.append((method, url, response.status_code))
            leaked = [word for word in words if word in text]
            if leaked:
                shown[f"{method} {url}"] = leaked
            if (
                method == "GET"
                and rule.arguments - {"chart", "filename"}
                and (response.status_code not in (403, 404))
            ):
                found_by_id.append((url, response.status_code))
    assert server_errors == []
    assert shown == {}
    assert found_by_id == []
    assert not_refused == []
    after = snapshot(district)
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert changed == {}
