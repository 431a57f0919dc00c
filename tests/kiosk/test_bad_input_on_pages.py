"""The bad values that once made pages answer 500 (ids past what a table holds, NUL bytes,
text that is not Unicode, dates in year 1 and 9999, very long text) sent to every kiosk and
console page that takes a parameter, on SQLite and on PostgreSQL: the answer is 400, 404,
422 or the page itself, never a server error, and nothing changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.spaces.models.bookings import Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions
from tests.demo_app import demo_app_on
from tests.kiosk.conftest import KioskActions
from tests.mobile.conftest import PhoneActions

BAD_IDS = {"2**31": str(2**31), "2**63": str(2**63), "2**64+1": str(2**64 + 1), "0": "0"}
BAD_TEXT = {
    "NUL": "a\x00b",
    "not UTF-8": "%ED%A0%80",  # a lone surrogate, percent-encoded as browsers would send it
    "year 1": "0001-01-01",
    "year 9999": "9999-12-31",
    "time in year 1": "0001-01-01T00:00:00+08:00",
    # Longer than any column (the longest is 500) by more than twice, with Chinese in it,
    # 1,500 bytes. Mostly ASCII: every "字" is nine characters percent-encoded, and 1,200 of
    # them in each of the 27 query names took 16-18 s a run to unquote, in the test client
    # and in the app (5,000 took 47 s).
    "very long": "字" * 150 + "z" * 1050,
    "huge number": str(2**70),
}
# The query names the console's and kiosk's GET forms read (filters, pages, cursors).
QUERY_NAMES = (
    "q", "page", "before", "next", "date", "day", "date_from", "date_to", "on_date", "since",
    "until", "space", "status", "action", "person", "kind", "view", "week", "resident_id",
    "starts_on", "ends_on", "after", "room", "seat_id", "headcount", "start", "end",
)  # fmt: skip


@pytest.fixture
def bad_input_app(empty_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    yield from demo_app_on(empty_database_url, tmp_path, clock)


def admin_client(app: Flask) -> FlaskClient:
    """Signed in at the console, and on the phone page as a demo resident, so the pages of
    both run their code instead of asking to sign in."""
    client = app.test_client()
    assert StaffActions(client).sign_in("admin", ADMIN_PASSWORD).status_code == 302
    assert PhoneActions(client).sign_in().status_code == 302
    return client


def page_rules(app: Flask) -> list[tuple[str, list[str]]]:
    """Every GET page of the kiosk, the phone page and the console with its parameters,
    static files aside."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint.endswith("static"):
            continue
        if rule.rule.startswith(("/kiosk", "/staff", "/m/")):
            found.append((rule.rule, sorted(rule.arguments)))
    return found


def url_with(rule: str, replace: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        return replace.get(match[2], "1")

    return re.sub(r"<(?:([^:<>]+):)?([^<>]+)>", value, rule)


# Opening a resident's readings, and exporting the residents' roster, are themselves audited:
# the only entries reading pages may write.
READING_IS_AUDITED = {"health.viewed", "health.exported", "resident.roster_exported"}


def audited_actions(app: Flask) -> list[str]:
    with app.app_context(), database().read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def assert_no_server_error(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    response.close()
    assert response.status_code < 500, (url, response.status_code)


def test_the_walk_finds_the_pages_with_parameters(bad_input_app: Flask) -> None:
    with_params = [rule for rule, params in page_rules(bad_input_app) if params]
    assert len(with_params) >= 15, with_params


def test_ids_past_what_a_table_holds_are_not_found(bad_input_app: Flask) -> None:
    client = admin_client(bad_input_app)
    for rule, params in page_rules(bad_input_app):
        for param in params:
            if "<id:" + param not in rule:
                continue
            for bad in BAD_IDS.values():
                response = client.get(url_with(rule, {param: bad}))
                response.close()
                assert response.status_code == 404, (rule, bad, response.status_code)


@pytest.mark.parametrize("bad", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_bad_text_in_any_path_or_query_parameter_never_gets_a_server_error(
    bad_input_app: Flask, bad: str
) -> None:
    client = admin_client(bad_input_app)
    before = len(audited_actions(bad_input_app))
    encoded = bad if bad.startswith("%") else quote(bad, safe="")
    for rule, params in page_rules(bad_input_app):
        for param in params:
            if "<id:" + param in rule:
                continue
            assert_no_server_error(client, url_with(rule, {param: encoded}))
        query = "&".join(f"{name}={encoded}" for name in QUERY_NAMES)
        assert_no_server_error(client, f"{url_with(rule, {})}?{query}")
    # Reading pages changes nothing: no entry but the readings' own audit of being read.
    assert set(audited_actions(bad_input_app)[before:]) <= READING_IS_AUDITED


# As a browser would send them: a NUL, bytes that are not UTF-8, a very long name.
BAD_FORM_VALUES = {"NUL": "zhao%00", "not UTF-8": "%ED%A0%80", "very long": "a" * 5000}


@pytest.mark.parametrize("bad", BAD_FORM_VALUES.values(), ids=BAD_FORM_VALUES.keys())
def test_a_bad_username_at_the_console_sign_in_is_refused_before_anything(
    bad_input_app: Flask, bad: str
) -> None:
    client = bad_input_app.test_client()
    token = quote(StaffActions(client).csrf_token(), safe="")
    response = client.post(
        "/staff/sign-in", data=f"username={bad}&password=whatever&csrf_token={token}",
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert response.status_code in (400, 401), response.status_code
    assert client.get_cookie("linli_staff") is None


@pytest.mark.parametrize("bad", ["1380000000\x00", "1380000000\ufffd", "1" * 5000])
def test_a_bad_phone_at_the_kiosk_sign_in_is_refused_before_anything(
    bad_input_app: Flask, bad: str
) -> None:
    kiosk = KioskActions(bad_input_app.test_client())
    response = kiosk.sign_in(phone=bad, pin="123456")
    assert response.status_code in (400, 422), response.status_code
    assert not kiosk.is_signed_in()


@pytest.mark.parametrize("bad", ["²", str(2**31), str(2**70), "1\x00"])
@pytest.mark.parametrize("path", ["/kiosk/seats/book", "/kiosk/seats/waitlist",
                                  "/kiosk/seats/sit-now", "/m/seats/book"])  # fmt: skip
def test_a_kiosk_post_naming_a_seat_that_cannot_exist_is_refused_and_books_nothing(
    bad_input_app: Flask, path: str, bad: str
) -> None:
    kiosk = KioskActions(bad_input_app.test_client())
    assert kiosk.sign_in().status_code == 302
    assert PhoneActions(kiosk.client).sign_in().status_code == 302
    response = kiosk.client.post(path, data={
        "seat_id": bad, "room": bad, "csrf_token": kiosk.csrf_token(),
    })  # fmt: skip
    assert 400 <= response.status_code < 500, response.status_code
    assert "已预约" not in response.get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_booking_form_for_a_day_outside_this_century_is_refused_and_books_nothing(
    bad_input_app: Flask, day: str
) -> None:
    # The kiosk's and the phone's forms read their day with one parser; year 1 overflowed
    # when its opening time was moved to UTC, a 500 on the phone's seat and room forms.
    with bad_input_app.app_context(), database().read() as session:
        rooms = {space.code: space.id for space in session.scalars(select(Space))}
        seat = session.scalars(select(Seat.id).where(Seat.space_id == rooms["study"])).first()
        before = len(session.scalars(select(Booking.id)).all())
    kiosk = KioskActions(bad_input_app.test_client())
    assert kiosk.sign_in().status_code == 302
    assert PhoneActions(kiosk.client).sign_in().status_code == 302
    for path, room in [
        ("/kiosk/seats/book", rooms["study"]), ("/kiosk/seats/waitlist", rooms["study"]),
        (f"/kiosk/rooms/{rooms['meeting']}/book", rooms["meeting"]),
        ("/m/seats/book", rooms["study"]), ("/m/rooms/book", rooms["meeting"]),
    ]:  # fmt: skip
        for start in ("15:00", "00:00"):
            response = kiosk.client.post(path, data={
                "day": day, "start": start, "minutes": "60", "seat_id": str(seat),
                "room": str(room), "headcount": "2", "purpose": "meeting",
                "csrf_token": kiosk.csrf_token(),
            })  # fmt: skip
            assert 400 <= response.status_code < 500, (path, start, response.status_code)
    with bad_input_app.app_context(), database().read() as session:
        assert len(session.scalars(select(Booking.id)).all()) == before
