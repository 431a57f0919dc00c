"""One deployment, two centres: staff of one centre neither read nor change the other's data.

Six walkers work at "dongfang" (centre A): its admin; a plain member of its staff; the worker
of a third centre who was granted A; B's own worker and admin, granted A, who may work at B
too but not from A's console; and the district's admin, who works everywhere but, from A's
console, acts on A alone (the district overview and the accounts' centres are theirs:
THEIRS_AT_B). Each calls every console page and API route the app has (from
``app.url_map``) with the ids of the demo centre "xinhua" (centre B, with its residents, rooms,
bookings, tools, loans, suspensions, a locker, alerts, blood-pressure readings, weekly classes
and messages) in its path and its form:

- no answer shows anything of B (its residents' names and phones, its rooms', tools' and
  locker's names),
- no answer is a server error, a page naming one of B's things is not found or refused,
- every change aimed at B's things is refused: not found, forbidden, or the console's way,
  back to a page with the reason in an error notice; and the database is what it was (the
  audit log aside),
- the same change with A's own things (the control) is not sent back as a bad form (400,
  422) nor answered "not found": the walk's form data is good enough to reach the rules, so
  it is the centre's rule that refuses B's.

A route the walk does not know how to fill fails it: a new route is covered, or exempt below
with its reason; a change route needs its form below, or its reason for going without. On
SQLite and PostgreSQL, the district seeded once for the six walkers and put back as seeded
before each."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Table, select, text, update
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity
from booking.core import sites
from booking.core.clock import FrozenClock
from booking.core.db import Base
from booking.core.models.sites import Site
from booking.demo import centre as demo_centre
from booking.demo import history as demo_history
from booking.lending import operations as lending
from booking.lending import reservations
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people import api_tokens, cards, staff_sites
from booking.people import residents as resident_service
from booking.people import staff as staff_service
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount, StaffRole
from booking.spaces import rooms, seats, series
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from booking.spaces.models.suspensions import BookingSuspension
from devices.fleet import provisioning
from devices.models.links import DeviceLink, LinkState
from kiosk.extensions import database
from kiosk.staff.insights.labelled import CHARTS
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, StaffActions, database_url_on
from tests.demo_app import demo_app_on
from tests.staff.district_sites import DONGFANG_RESIDENT, PASSWORD, add_dongfang

CATALOGUE = Path(__file__).parents[2] / "kiosk/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
B_LOCKER = "xh-locker-9"
B_LOCKER_NAME = "新华三号柜"
A_LOCKERS = ("df-locker-a", "df-locker-b")
A_SECOND_PHONE = "13912340002"
# The suite's clock (tests/conftest.py): a Tuesday morning in Shanghai.
NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
TOMORROW = NOW.date() + timedelta(days=1)

# Who walks, all working at A (those of another centre switched the console to A after
# signing in): A's admin and a plain member of its staff; the worker of a third centre granted
# A as its admin there; and B's own worker and admin, granted A (as staff, as admin), who may
# work at B too but not from A's console.
WALKERS = ("df.admin", "df.wang", "bc.li", "zhao", "admin", "qu.zhou")
# What of B's is a walker's own: switching the console to B, for those who may work there
# (switched, the walk would go on at B); for the district's admin also the district overview,
# every centre side by side (its figures: no resident's name, no room's), its CSVs, and
# which centres an account may work at (tests/staff/test_staff_of_several_centres.py).
THEIRS_AT_B = {
    "staff.switch_site": {"zhao", "admin", "qu.zhou"},
    "staff.district_csv": {"qu.zhou"},
    "staff.account_grant_site": {"qu.zhou"},
    "staff.account_revoke_site": {"qu.zhou"},
}

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

# Path parameters filled with a thing of the centre: the table it comes from, and the column.
ROWS = {
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
# What both centres have (the demo's and what the fixture adds); for the rest see
# NOT_AT_EITHER_CENTRE.
MADE_BY_THE_FIXTURE = {"space_id", "booking_id", "tool_type_id", "item_id", "alert_id",
                       "device_id", "loan_id", "staff_id", "series_id", "reservation_id",
                       "token_id", "suspension_id", "bind_id"}  # fmt: skip
NONE_THERE = str(10**6)
FILLED = {*ROWS, "site_id", "compartment", "chart", "table", "token", "resident_id", "seat_id"}

# Rows still open to action, preferred where a centre has one: an alert acknowledged, a loan
# returned, a booking approved could not be refused for being settled already; and a locker,
# the device most routes act on.
OPEN_TO_ACTION = {
    "devices": "kind = 'locker'",
    "staff_alerts": "status = 'open'",
    "bookings": "status IN ('pending', 'confirmed')",
    "loans": "returned_at IS NULL",
}
# What the audit log, sessions and sign-in bookkeeping record of the walk itself.
WALKERS_TRACES = {"audit_log", "staff_sessions", "sign_in_failures", "worker_leases", "heartbeats"}

# How a change aimed at B's things is refused: not found, forbidden, or (the console's way)
# back to a page with an error notice. A conflict (409) or a success would mean B's thing was
# found and a rule other than the centre's answered.
REFUSED = {403, 404}
REDIRECTS = {302, 303}
# A form sent back for its data. Refusing B's ids so is the centre's rule too (a room of B is
# not among the form's choices) only because the control, the same form with A's ids, is not.
BAD_FORM = {400, 422}

# The form of every change route, by endpoint: "{name}" is filled with the centre's value
# (A's for the control, B's for the walk; see centre_values). The CSRF token is added.
FORMS: dict[str, dict[str, str]] = {
    "api_bookings.create_booking": {
        "resident_id": "{resident_id}", "seat_id": "{seat_id}",
        "starts_at": "{tomorrow}T02:00:00Z", "ends_at": "{tomorrow}T04:00:00Z",
    },
    "api_bookings.cancel": {},
    "api_bookings.check_in": {},
    "api_lending.renew_loan": {},
    "api_lending.join_queue": {"resident_id": "{resident_id}", "tool_type_id": "{tool_type_id}"},
    "api_lending.create_reservation": {
        "resident_id": "{resident_id}", "tool_type_id": "{tool_type_id}",
        "starts_at": "{tomorrow}T02:00:00Z", "ends_at": "{tomorrow}T04:00:00Z",
    },
    "api_lending.cancel_reservation": {},
    "staff.switch_site": {"site": "{site_slug}"},
    "staff.account_grant_site": {"site": "beicheng"},
    "staff.account_revoke_site": {},
    "staff.account_add": {
        "username": "walkmate", "display_name": "同事", "password": "walk-password-2026",
        "confirm": "walk-password-2026",
    },
    "staff.account_password": {"password": "walk-password-2026", "confirm": "walk-password-2026"},
    "staff.account_disable": {},
    "staff.account_enable": {},
    "staff.admin_api_tokens": {
        "name": "walk", "scopes": "bookings:read", "expires_on": "2027-01-31",
    },
    "staff.admin_revoke_api_token": {},
    "staff.admin_devices": {
        "kind": "locker", "device_id": "walk-locker", "name": "walk", "compartments": "4",
    },
    "staff.admin_rotate_device": {},
    "staff.admin_reader_pairing": {},
    "staff.admin_revoke_device": {},
    "staff.admin_hours": {
        "name_zh": "东方中心", "name_en": "Dongfang", "opens_at": "08:00", "closes_at": "21:00",
    },
    "staff.admin_item": {
        "asset_tag": "WALK-{item_id}", "tool_type": "{tool_type_id}", "status": "available",
    },
    "staff.admin_new_item": {
        "asset_tag": "WALK-NEW", "tool_type": "{tool_type_id}", "status": "available",
    },
    "staff.admin_kiosk_screen": {},
    "staff.admin_policy": {
        "max_items_on_loan": "3", "hold_minutes": "60", "door_open_timeout_s": "60",
        "overdue_strikes": "2", "overdue_window_days": "90", "suspension_days": "14",
        "escalate_after_days": "3", "max_renewals": "1", "no_show_strikes": "1",
    },
    "staff.admin_seat": {"map_row": "0", "map_col": "0"},
    "staff.admin_space": {"name_zh": "东方walk", "name_en": "walk", "capacity": "10"},
    "staff.admin_restore_space": {},
    "staff.admin_retire_space": {},
    "staff.admin_space_rules": {"bookable_days": "7"},
    "staff.admin_add_seat_rows": {"first": "30", "last": "31", "per_row": "2"},
    "staff.admin_add_seat": {"number": "40", "map_row": "7", "map_col": "0"},
    "staff.admin_new_space": {
        "code": "walk", "kind": "activity", "name_zh": "东方walk", "name_en": "walk",
        "capacity": "10",
    },
    "staff.admin_tool_type": {
        "code": "{tool_type_code}", "name_zh": "东方walk", "name_en": "walk", "loan_days": "3",
    },
    "staff.admin_restore_tool_type": {},
    "staff.admin_retire_tool_type": {},
    "staff.admin_new_tool_type": {
        "code": "walk", "name_zh": "东方walk", "name_en": "walk", "loan_days": "3",
    },
    "staff.alert_acknowledge": {"note": "walk"},
    "staff.alert_resolve": {"note": "walk"},
    "staff.booking_approve": {},
    "staff.booking_reject": {"reject-{booking_id}-reason": "walk"},
    "staff.booking_closure_declare": {
        "space": "{space_id}", "starts_at": "{tomorrow}T19:00", "ends_at": "{tomorrow}T20:00",
        "reason": "walk",
    },
    "staff.booking_series_end": {"end-{series_id}-last_date": "2026-12-31"},
    "staff.booking_series_exception": {"skip-{series_id}-on_date": "{series_day}"},
    "staff.booking_series_create": {
        "new-space": "{space_id}", "new-title": "walk", "new-weekday": "5",
        "new-start_time": "09:00", "new-end_time": "10:00", "new-starts_on": "{tomorrow}",
        "new-ends_on": "2026-12-31", "new-headcount": "2",
    },
    "staff.booking_suspension_lift": {"lift-{suspension_id}-reason": "walk"},
    "staff.device_maintenance_open": {"reason": "walk"},
    "staff.device_session_reset": {},
    "staff.health_alert_acknowledge": {"note": "walk"},
    "staff.health_alert_note": {"note": "walk"},
    "staff.health_alert_resolve": {"note": "walk"},
    "staff.health_contact_consent": {"answer": "yes"},
    "staff.health_contact_message": {},
    "staff.health_paper_consent": {"signed": "y", "signed_on": "2026-11-24"},
    "staff.health_withdrawal": {"channel": "paper", "confirmed": "y"},
    "staff.health_settings": {"ruleset": "china", "retention_days": "365"},
    "staff.lending_mismatch_resolve": {
        "m{mismatch_id}-resolution": "returned", "m{mismatch_id}-note": "walk",
    },
    "staff.lending_ask_lockers": {},
    "staff.lending_lend": {"resident": "{phone}"},
    "staff.lending_maintenance_open": {"reason": "walk"},
    "staff.lending_renew": {},
    "staff.lending_return": {"condition": "fine"},
    "staff.lending_reservation_cancel": {},
    "staff.resident_book_room": {
        "day": "{tomorrow}", "start": "16:00", "minutes": "60", "room": "{space_id}",
        "headcount": "2",
    },
    "staff.resident_book_seat": {
        "day": "{tomorrow}", "start": "10:00", "minutes": "120", "seat": "{seat_id}",
    },
    "staff.resident_cancel_booking": {},
    "staff.resident_revoke_calendar_feed": {},
    "staff.resident_card_type": {"card_id": "WALK{resident_id}"},
    "staff.resident_card_read": {"terminal": "{reader_id}"},
    "staff.resident_card_unbind": {"confirm": "y"},
    "staff.resident_deactivate": {"reason": "moved_away", "confirm": "y"},
    "staff.resident_details": {
        "name": "{name}", "phone": "{phone}", "birth_year": "1950", "preferred_language": "zh_CN",
    },
    "staff.resident_lend_counter": {},
    "staff.resident_hold_tool": {},
    "staff.resident_lend_locker": {},
    "staff.resident_lift_lending_suspension": {"lending-reason": "walk"},
    "staff.resident_merge": {"other": "{other_phone}", "survivor": "this", "confirm": "y"},
    "staff.resident_pickup_cancel": {},
    "staff.resident_reset_pin": {"identity_checked": "y", "deliver": "print"},
    "staff.resident_reactivate": {"confirm": "y"},
    "staff.resident_lift_seat_suspension": {"seat-reason": "walk"},
    "staff.resident_clear_sign_in_failures": {},
    "staff.resident_enrol": {
        "name": "东方新居民", "phone": "13912349999", "birth_year": "1950",
        "preferred_language": "zh_CN", "confirmed_different": "y",
    },
    "staff.residents_roster_confirm": {},
    "staff.residents_roster_slips": {"building": "*", "count": "1"},
}  # fmt: skip
# Change routes that name no thing of any centre: they act on the walker's own centre (a new
# room, the opening hours), so there is nothing of B to aim them at; only the control sends
# them, to show their form is good.
OWN_CENTRE = {
    "staff.account_add": "a new colleague whose home is the walker's centre",
    "staff.admin_api_tokens": "a new API token of the walker's centre",
    "staff.admin_devices": "a new device of the walker's centre",
    "staff.admin_hours": "the walker's centre's names and hours",
    "staff.admin_kiosk_screen": "makes this browser a screen of the walker's centre",
    "staff.admin_policy": "the walker's centre's lending rules",
    "staff.admin_new_space": "a new room of the walker's centre",
    "staff.admin_new_tool_type": "a new tool type of the walker's centre",
    "staff.health_settings": "the walker's centre's blood-pressure settings",
    "staff.lending_ask_lockers": "asks the walker's centre's lockers what they hold",
    "staff.resident_enrol": "a new resident, a member of the walker's centre",
    "staff.residents_roster_confirm": "a roster file the walker's own console checked",
    "staff.residents_roster_slips": "sign-in slips for the walker's centre's new residents",
}
# Change routes neither pass sends, each with why.
UNSENT = {
    "staff.residents_roster_check": (
        "a roster file upload for the walker's own centre (names nothing of another); its "
        "rules are tests/staff/test_staff_roster.py"
    ),
}
# Path parameters of things neither centre has in the walk (walked with an id no row has, so
# both passes are refused as not found): why the fixture makes none.
NOT_AT_EITHER_CENTRE = {
    "door_session_id": (
        "a pickup is reserved only from a locker that reports itself and its compartments "
        "(devices.locker.opening): the walk has no locker online"
    ),
    "mismatch_id": (
        "a locker's count that disagrees with the loans comes from the locker "
        "(booking.lending.reconciliation): the walk has no locker online"
    ),
}
# Path parameters some routes take otherwise: a seat booking begun (to check in) rather than
# the room booking awaiting approval, a counter item of its own (so that the newest is still
# free when an admin edits it), a kiosk reader rather than the locker, a study room (the one
# with seats) rather than the newest room.
PATHS = {
    "api_bookings.check_in": {"booking_id": "{seat_booking_id}"},
    "staff.resident_lend_counter": {"item_id": "{spare_item_id}"},
    "staff.resident_lift_lending_suspension": {"suspension_id": "{lending_suspension_id}"},
    "staff.admin_reader_pairing": {"device_id": "{reader_id}"},
    "staff.admin_add_seat": {"space_id": "{study_id}"},
    "staff.admin_add_seat_rows": {"space_id": "{study_id}"},
}


@dataclass(frozen=True)
class District:
    app: Flask
    clock: FrozenClock
    # Every row as seeded, to put back before each walker (the control passes change A).
    rows: dict[str, list[dict[str, Any]]]


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def district_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """As ``empty_database_url``, once for the module: the walkers share one district."""
    yield from database_url_on(request.param, tmp_path_factory.mktemp("walk"))


@pytest.fixture(scope="module")
def seeded(district_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[District]:
    """The two centres, seeded once for the module (the demo's history is most of the time a
    walk takes to set up)."""
    clock = FrozenClock(NOW)
    with pytest.MonkeyPatch.context() as monkeypatch:
        # The demo's history made by its own rules, but three weeks of loans and one of
        # readings rather than seven and six: as much of each kind of row, a third of the time.
        monkeypatch.setattr(demo_history, "LOAN_WEEKS", 3)
        monkeypatch.setattr(demo_history, "READING_WEEKS", 1)
        for app in demo_app_on(district_url, tmp_path_factory.mktemp("instance"), clock):
            dongfang = add_dongfang(app, clock)
            with app.app_context(), database().write() as session:
                xinhua = sites.get_site_by_slug(session, "xinhua")
                furnish_xinhua(session, xinhua, clock.now())
                furnish_dongfang(session, session.get_one(Site, dongfang.site_id), clock.now())
                add_granted_workers(session, dongfang.site_id, clock.now())
            with app.app_context(), database().read() as session:
                rows = {
                    table.name: [dict(row._mapping) for row in session.execute(select(table))]
                    for table in Base.metadata.sorted_tables
                }
            yield District(app, clock, rows)


@pytest.fixture
def district(seeded: District) -> District:
    """The seeded district as it was seeded: every row put back, so that each walker's
    control pass meets A as the first one did."""
    with seeded.app.app_context(), database().write() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())
        for table in Base.metadata.sorted_tables:
            if seeded.rows[table.name]:
                session.execute(table.insert(), seeded.rows[table.name])
    return seeded


def furnish_xinhua(session: Session, xinhua: Site, now: datetime) -> None:
    """B's history (loans, readings, weekly classes), a locker with an alert still open, and
    what :func:`furnish` gives both centres."""
    members = list(
        session.scalars(
            select(ResidentMembership.resident_id)
            .where(ResidentMembership.site_id == xinhua.id)
            .order_by(ResidentMembership.resident_id)
        )
    )
    zone = demo_history.ZoneInfo(xinhua.timezone)
    today = now.astimezone(zone).date()
    demo_history.seed(
        session, site=xinhua, people=members, consenting_phones=demo_centre.HEALTH_CONSENTS,
        this_monday=today - timedelta(days=today.weekday()), now=now, worker="zhao",
        bp_terminal=demo_centre.BP_TERMINALS[0],
    )  # fmt: skip
    provisioning.register_device(
        session, xinhua.id, B_LOCKER, "locker", B_LOCKER_NAME, now, compartments=4
    )
    # An alert still open (the history's are all followed up): one B's staff could act on.
    alerts.raise_alert(
        session, site_id=xinhua.id, kind="locker.door_left_open",
        severity=AlertSeverity.WARNING, summary=f"{B_LOCKER}: compartment 3 left open",
        subject=f"device:{B_LOCKER}", now=now,
    )  # fmt: skip
    furnish(session, xinhua, resident_id=members[0], worker="zhao", admin="admin",
            reader="xh-reader-9", now=now)  # fmt: skip


def furnish_dongfang(session: Session, dongfang: Site, now: datetime) -> None:
    """What A's control pass acts on: the demo's rooms and tools under names of A's own (so
    that no page of A says a name of B's), lockers and an open alert, a weekly class, a
    second resident, and what :func:`furnish` gives both centres."""
    demo_centre.seed_spaces(session, dongfang)
    for locker in A_LOCKERS:
        provisioning.register_device(session, dongfang.id, locker, "locker", locker, now,
                                     compartments=8)  # fmt: skip
    demo_centre.seed_tools(session, dongfang, tag_prefix="dongfang", lockers=A_LOCKERS)
    for model in (Space, ToolType):
        session.execute(
            update(model)
            .where(model.site_id == dongfang.id)
            .values(name_zh="东方" + model.code, name_en="Dongfang " + model.code)
        )
    alerts.raise_alert(
        session, site_id=dongfang.id, kind="locker.door_left_open",
        severity=AlertSeverity.WARNING, summary=f"{A_LOCKERS[0]}: compartment 3 left open",
        subject=f"device:{A_LOCKERS[0]}", now=now,
    )  # fmt: skip
    worker = session.scalars(select(StaffAccount).where(StaffAccount.username == "df.wang")).one()
    dance = session.scalars(
        select(Space).where(Space.site_id == dongfang.id, Space.code == "dance")
    ).one()
    # On Fridays, as B's newest class (the demo's 便民服务日): one date skips both.
    series.create_series(
        session, staff_id=worker.id, site_id=dongfang.id, space_id=dance.id, title="东方太极",
        weekday=4,
        start_time=time(9), end_time=time(10), starts_on=now.date() + timedelta(days=1),
        ends_on=now.date() + timedelta(weeks=8), now=now, headcount=10,
    )  # fmt: skip
    resident = session.scalars(
        select(ResidentMembership.resident_id).where(ResidentMembership.site_id == dongfang.id)
    ).one()
    resident_service.register_resident(
        session, site_id=dongfang.id, name="东方居民乙", phone=A_SECOND_PHONE, pin="386204",
        now=now,
    )  # fmt: skip
    furnish(session, dongfang, resident_id=resident, worker="df.wang", admin="df.admin",
            reader="df-reader-1", now=now)  # fmt: skip


def furnish(
    session: Session, site: Site, *, resident_id: int, worker: str, admin: str, reader: str,
    now: datetime,
) -> None:  # fmt: skip
    """What each centre's first resident has there, newer than anything else of the kind: a
    seat booked from now, a room booking awaiting approval, a tool reserved and one borrowed
    (the first counter item, so that the newest is free to edit and lend), a card to bind,
    suspensions from seats and from borrowing; and a kiosk reader, an API token and a device
    link of the centre (live, so that a locker's routes go past it to their rules)."""
    provisioning.register_device(session, site.id, reader, "kiosk_reader", reader, now)
    session.add(DeviceLink(site=site.slug, client_id="walk", state=LinkState.CONNECTED,
                           changed_at=now, beat_at=now))  # fmt: skip
    accounts = {
        account.username: account
        for account in session.scalars(
            select(StaffAccount).where(StaffAccount.username.in_((worker, admin)))
        )
    }
    accounts[admin].work_at(site.id, as_admin=True)
    api_tokens.create_token(
        session, staff=accounts[admin], name="walk", scopes=["bookings:read"],
        expires_at=now + timedelta(days=30), now=now,
    )  # fmt: skip
    meeting, drill = (
        session.scalars(select(model.id).where(model.site_id == site.id, model.code == code)).one()
        for model, code in ((Space, "meeting"), (ToolType, "drill"))
    )
    seat = session.scalars(
        select(Seat.id).join(Space, Space.id == Seat.space_id)
        .where(Space.site_id == site.id).order_by(Seat.id)
    ).first()  # fmt: skip
    assert seat is not None
    seats.book_seat(session, resident_id=resident_id, seat_id=seat, starts_at=now,
                    ends_at=now + timedelta(hours=2), now=now)  # fmt: skip
    tomorrow = now.date() + timedelta(days=1)
    rooms.book_room(
        session, resident_id=resident_id, space_id=meeting, headcount=4, now=now,
        starts_at=datetime.combine(tomorrow, time(6), tzinfo=UTC),
        ends_at=datetime.combine(tomorrow, time(7), tzinfo=UTC),
    )  # fmt: skip
    reservations.reserve(
        session, site_id=site.id, resident_id=resident_id, tool_type_id=drill, now=now,
        starts_at=datetime.combine(tomorrow, time(2), tzinfo=UTC),
        ends_at=datetime.combine(tomorrow, time(4), tzinfo=UTC),
    )  # fmt: skip
    item = session.scalars(
        select(Item).where(Item.site_id == site.id, Item.locker_device_id.is_(None))
        .order_by(Item.id)
    ).first()  # fmt: skip
    assert item is not None
    accounts[worker].work_at(site.id)
    lending.lend_at_counter(
        session, staff=accounts[worker], item_id=item.id, resident_id=resident_id,
        now=now - timedelta(days=1),
    )  # fmt: skip
    # A card to bind, waiting for the resident's tap at the reader.
    cards.start_bind(session, staff=accounts[worker], resident=session.get_one(Resident, resident_id),
                     device_id=reader, now=now)  # fmt: skip
    # Suspended from booking seats and from borrowing, as repeated no-shows and overdue loans
    # would have it (the rules that make them are their own tests').
    for model in (BookingSuspension, LendingSuspension):
        session.add(model(site_id=site.id, resident_id=resident_id, starts_at=now,
                          ends_at=now + timedelta(days=7)))  # fmt: skip


def add_granted_workers(session: Session, dongfang_id: int, now: datetime) -> None:
    """ "bc.li", the worker of a third centre, "beicheng", granted A as its admin; and B's own
    worker "zhao" and admin "admin", granted A (as staff, as admin)."""
    beicheng = sites.create_site(session, slug="beicheng", name_zh="北城中心", name_en="Beicheng")
    worker = staff_service.create_staff(
        session, site_id=beicheng.id, username="bc.li", display_name="李北城",
        password=PASSWORD, role=StaffRole.STAFF, now=now,
    )  # fmt: skip
    # The district's admin, whose home is the third centre and who works everywhere.
    staff_service.create_staff(
        session, site_id=beicheng.id, username="qu.zhou", display_name="周区管",
        password=PASSWORD, role=StaffRole.DISTRICT_ADMIN, now=now,
    )  # fmt: skip
    for staff_id, as_admin in (
        (worker.id, True),
        *(
            (account.id, account.role is StaffRole.ADMIN)
            for account in session.scalars(
                select(StaffAccount).where(StaffAccount.username.in_(("zhao", "admin")))
            )
        ),
    ):
        staff_sites.grant_site(
            session, by=None, staff_id=staff_id, site_id=dongfang_id, now=now, as_admin=as_admin
        )


def centre_values(app: Flask, slug: str, other: str) -> dict[str, str]:
    """The centre's ids for every path parameter and form field: its things, the newest first
    (open ones preferred), and a resident who is a member there and not at ``other``."""
    tables = Base.metadata.tables
    with app.app_context(), database().read() as session:
        site = sites.get_site_by_slug(session, slug).id
        elsewhere = sites.get_site_by_slug(session, other).id
        values = {"site_id": str(site), "site_slug": slug, "compartment": "1",
                  "chart": next(iter(CHARTS)), "table": "today", "token": "x" * 32}  # fmt: skip
        for param, (name, column) in ROWS.items():
            table = tables[name]
            query = select(table.c[column]).where(table.c.site_id == site)
            query = query.order_by(table.c.id.desc())
            found = session.scalar(query.where(text(OPEN_TO_ACTION.get(name, "1 = 1"))))
            found = found if found is not None else session.scalar(query)
            values[param] = str(found) if found is not None else NONE_THERE
        members = tables["resident_memberships"]
        residents = tables["residents"]
        only_here = select(members.c.resident_id).where(members.c.site_id == site).except_(
            select(members.c.resident_id).where(members.c.site_id == elsewhere)
        )  # fmt: skip
        people = session.execute(
            select(residents.c.id, residents.c.name, residents.c.phone)
            .where(residents.c.id.in_(only_here))
            .order_by(residents.c.id)
        ).all()
        values["resident_id"], values["phone"] = str(people[0].id), people[0].phone
        values["name"], values["other_phone"] = people[0].name, people[1].phone
        values |= form_values(session, site, values)
    return values


def form_values(session: Session, site: int, found: dict[str, str]) -> dict[str, str]:
    """What the forms and PATHS name besides the path parameters: dates, the newest tool
    type's code, the next date of the newest series, the centre's reader, study room, first
    seat, seat booking, borrowing suspension and second counter item."""
    tables = Base.metadata.tables
    values: dict[str, str] = {}
    tool_types, devices, spaces = tables["tool_types"], tables["devices"], tables["spaces"]
    values["tool_type_code"] = session.scalars(
        select(tool_types.c.code).where(tool_types.c.id == int(found["tool_type_id"]))
    ).one()
    values["reader_id"] = session.scalars(
        select(devices.c.device_id)
        .where(devices.c.site_id == site, devices.c.kind == "kiosk_reader")
    ).one()  # fmt: skip
    weekday = session.scalars(
        select(tables["booking_series"].c.weekday)
        .where(tables["booking_series"].c.id == int(found["series_id"]))
    ).one()  # fmt: skip
    values["series_day"] = (
        TOMORROW + timedelta(days=(weekday - TOMORROW.weekday()) % 7)
    ).isoformat()
    values["tomorrow"] = TOMORROW.isoformat()
    values["study_id"] = str(
        session.scalars(
            select(spaces.c.id).where(spaces.c.site_id == site, spaces.c.kind == "study")
        ).one()
    )
    seats, bookings, items = tables["seats"], tables["bookings"], tables["items"]
    values["seat_id"] = str(
        session.scalar(
            select(seats.c.id).join(spaces, spaces.c.id == seats.c.space_id)
            .where(spaces.c.site_id == site).order_by(seats.c.id)
        )
    )  # fmt: skip
    values["seat_booking_id"] = str(
        session.scalars(
            select(bookings.c.id)
            .where(bookings.c.site_id == site, bookings.c.seat_id.is_not(None))
            .order_by(bookings.c.id.desc())
        ).first()
    )
    values["lending_suspension_id"] = str(
        session.scalars(
            select(tables["lending_suspensions"].c.id).where(
                tables["lending_suspensions"].c.site_id == site
            )
        ).one()
    )
    values["spare_item_id"] = str(
        session.scalars(
            select(items.c.id)
            .where(items.c.site_id == site, items.c.locker_device_id.is_(None))
            .order_by(items.c.id)
        ).all()[1]
    )
    return values


def b_words(app: Flask) -> list[str]:
    """The words that would show B's things: its residents', rooms', tools' and locker's
    names, and its residents' phones."""
    tables = Base.metadata.tables
    with app.app_context(), database().read() as session:
        b = sites.get_site_by_slug(session, "xinhua").id
        a = sites.get_site_by_slug(session, "dongfang").id
        members = tables["resident_memberships"]
        residents = tables["residents"]
        b_only = select(members.c.resident_id).where(members.c.site_id == b).except_(
            select(members.c.resident_id).where(members.c.site_id == a)
        )  # fmt: skip
        people = session.execute(
            select(residents.c.name, residents.c.phone).where(residents.c.id.in_(b_only))
        ).all()
        words = [p.name for p in people] + [p.phone for p in people] + [B_LOCKER_NAME]
        for name in ("spaces", "tool_types"):
            words += session.scalars(
                select(tables[name].c.name_zh).where(tables[name].c.site_id == b)
            )
    # A name that is also one of the console's own words ("自习室", the kind of space) shows
    # nothing of B when a page of A says it.
    catalogue = CATALOGUE.read_text(encoding="utf-8")
    return sorted({word for word in words if word not in catalogue})


def walked_rules(app: Flask) -> list[Rule]:
    return [
        rule for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/staff", "/api")) and rule.endpoint not in EXEMPT
    ]  # fmt: skip


def changes(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"GET", "HEAD", "OPTIONS"})


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


def signed_in(app: Flask, username: str) -> tuple[FlaskClient, str]:
    """A console signed in as ``username``, working at A (switched there when A is not home)."""
    client = app.test_client()
    actions = StaffActions(client)
    password = {"zhao": STAFF_PASSWORD, "admin": ADMIN_PASSWORD}.get(username, PASSWORD)
    assert actions.sign_in(username, password).status_code == 302
    csrf = actions.csrf_token()
    if client.get("/api/v1/staff/me").get_json()["site"]["slug"] != "dongfang":
        switched = client.post("/staff/site", data={"site": "dongfang", "csrf_token": csrf})
        assert switched.status_code in REDIRECTS
    assert client.get("/api/v1/staff/me").get_json()["site"]["slug"] == "dongfang"
    with client.session_transaction() as session:
        session.pop("_flashes", None)
    return client, csrf


def send(
    client: FlaskClient, rule: Rule, method: str, values: dict[str, str], csrf: str
) -> tuple[Any, list[tuple[str, str]]]:
    """The change ``rule`` with the centre's ``values``; its answer, and the notices the
    console left for the page it leads to (taken, so the next answer has its own)."""
    form = {
        field.format(**values): template.format(**values)
        for field, template in FORMS[rule.endpoint].items()
    }
    url = fill(rule, values | {
        param: template.format(**values)
        for param, template in PATHS.get(rule.endpoint, {}).items()
    })  # fmt: skip
    if rule.rule.startswith("/api"):
        # The API's ids are JSON integers ("7" is refused as not one).
        body = {name: int(v) if v.isdigit() else v for name, v in form.items()}
        response = client.open(url, method=method, json=body, headers={"X-CSRFToken": csrf})
    else:
        response = client.open(url, method=method, data=form | {"csrf_token": csrf})
    with client.session_transaction() as session:
        notices = list(session.pop("_flashes", []))
    return response, notices


def test_every_route_is_walked_or_exempt_with_a_reason(app: Flask) -> None:
    """About the routes alone, so on the suite's plain app: a path parameter the walk has no
    value for, or a change route with no form (nor a reason to go without), fails here."""
    unfilled = {
        rule.endpoint: sorted(set(rule.arguments) - FILLED)
        for rule in walked_rules(app)
        if set(rule.arguments) - FILLED
    }
    assert unfilled == {}, "give the walk a value of the centres for these, or exempt the route"
    formless = sorted(
        rule.endpoint
        for rule in walked_rules(app)
        if changes(rule) and rule.endpoint not in {*FORMS, *UNSENT}
    )
    assert formless == [], "give the walk a form for these changes, or say why it sends none"
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {*EXEMPT, *FORMS, *UNSENT, *PATHS} <= endpoints
    assert set(OWN_CENTRE) <= set(FORMS) and not set(FORMS) & set(UNSENT)
    assert set(NOT_AT_EITHER_CENTRE) == set(ROWS) - MADE_BY_THE_FIXTURE
    assert len(walked_rules(app)) > 120


def sent_changes(app: Flask) -> list[tuple[Rule, str]]:
    return [
        (rule, method)
        for rule in walked_rules(app)
        if rule.endpoint not in UNSENT
        for method in changes(rule)
    ]


@pytest.mark.parametrize("username", WALKERS)
def test_staff_of_one_centre_see_and_change_nothing_of_another(
    district: District, username: str
) -> None:
    app, clock = district.app, district.clock
    b, a = centre_values(app, "xinhua", "dongfang"), centre_values(app, "dongfang", "xinhua")
    words = b_words(app)
    assert set(FILLED) <= set(b)
    # The things the walk looks for are there to be found, at both centres.
    assert DONGFANG_RESIDENT not in words and len(words) > 20
    missing = {slug: sorted(param for param in MADE_BY_THE_FIXTURE if values[param] == NONE_THERE)
               for slug, values in (("xinhua", b), ("dongfang", a))}  # fmt: skip
    assert missing == {"xinhua": [], "dongfang": []}, "a centre has none of these to walk with"
    client, csrf = signed_in(app, username)

    shown, server_errors, found_by_id = {}, [], []
    for rule in walked_rules(app):
        if "GET" not in (rule.methods or set()):
            continue
        url = fill(rule, b)
        # A day and a period, for the routes that need one to show anything.
        now = clock.now()
        response = client.get(url, query_string={
            "date": now.date().isoformat(), "starts_at": now.isoformat(),
            "resident_id": b["resident_id"], "ends_at": (now + timedelta(hours=2)).isoformat(),
        })  # fmt: skip
        text_shown = shown_text(response)
        response.close()
        if response.status_code >= 500:
            server_errors.append(("GET", url, response.status_code))
        leaked = [word for word in words if word in text_shown]
        if leaked:
            shown[f"GET {url}"] = leaked
        if (
            rule.arguments - {"chart", "filename"}
            and response.status_code not in REFUSED
            and username not in THEIRS_AT_B.get(rule.endpoint, ())
        ):
            found_by_id.append((url, response.status_code))
    assert server_errors == []
    assert shown == {}
    assert found_by_id == []

    # Every change aimed at B's things, refused, and nothing of B changed.
    before = snapshot(app)
    not_refused = []
    for rule, method in sent_changes(app):
        if rule.endpoint in OWN_CENTRE or username in THEIRS_AT_B.get(rule.endpoint, ()):
            continue
        response, notices = send(client, rule, method, b, csrf)
        text_shown = shown_text(response)
        response.close()
        if response.status_code >= 500:
            server_errors.append((method, rule.endpoint, response.status_code))
        leaked = [word for word in words if word in text_shown]
        if leaked:
            shown[f"{method} {rule.endpoint}"] = leaked
        if not refused(response.status_code, notices):
            not_refused.append((rule.endpoint, response.status_code, notices))
    assert server_errors == []
    assert shown == {}
    assert not_refused == []
    after = snapshot(app)
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert changed == {}

    # The control: the same changes with A's own things are not sent back for their form, so
    # B's refusals above (a 400 among them: an id not among the form's choices) are the
    # centre's. Not found only where neither centre has the thing.
    bad_forms = []
    for rule, method in sent_changes(app):
        if username in THEIRS_AT_B.get(rule.endpoint, ()):
            continue  # not sent at B either: nothing to be the control of
        response, _notices = send(client, rule, method, a, csrf)
        response.close()
        if response.status_code >= 500:
            server_errors.append((method, rule.endpoint, response.status_code))
        if response.status_code in BAD_FORM or (
            response.status_code == 404 and not set(rule.arguments) & set(NOT_AT_EITHER_CENTRE)
        ):
            bad_forms.append((rule.endpoint, response.status_code))
    assert server_errors == []
    assert bad_forms == []


def refused(status: int, notices: list[tuple[str, str]]) -> bool:
    """Whether an answer refuses: not found or forbidden, a form sent back (the control shows
    it is the ids), or the console's way, back to a page with an error notice."""
    errors = [message for category, message in notices if category == "error"]
    return status in REFUSED | BAD_FORM or (status in REDIRECTS and bool(errors))
