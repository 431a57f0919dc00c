"""Staff of several centres, on SQLite and PostgreSQL: a worker given a second centre switches
to it in the console's header and sees that centre's people; a grant taken away sends the
console home at its next request; a district admin works at every centre; a centre's admin
gives nobody another centre; ``linli staff grant-site|revoke-site`` do the same as the page."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people import staff_sites
from booking.people.models.staff import StaffAccount
from booking.people.models.staff_sessions import StaffSession
from booking.people.models.staff_site_access import StaffSiteAccess
from kiosk.cli import main
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, StaffActions
from tests.demo_app import demo_app_on
from tests.staff.district_sites import (
    DONGFANG_PHONE,
    DONGFANG_RESIDENT,
    PASSWORD,
    add_district_admin,
    add_dongfang,
)

XINHUA_RESIDENT = "王秀英"  # the demo centre's first resident (booking.demo.centre)


@pytest.fixture
def district(empty_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    for app in demo_app_on(empty_database_url, tmp_path, clock):
        add_dongfang(app, clock)
        add_district_admin(app, clock)
        yield app


def signed_in(app: Flask, username: str, password: str) -> tuple[FlaskClient, StaffActions]:
    """Signed in, reading the console in English (the words checked are the msgids)."""
    client = app.test_client()
    actions = StaffActions(client)
    assert actions.sign_in(username, password).status_code == 302
    chosen = client.post(
        "/staff/language", data={"locale": "en", "csrf_token": actions.csrf_token()}
    )
    assert chosen.status_code == 302
    return client, actions


def cli(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(main, ["staff", *args])
    return result.exit_code, result.output


def residents_page(client: FlaskClient) -> str:
    response = client.get("/staff/residents")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def switch(client: FlaskClient, actions: StaffActions, slug: str) -> str:
    response = client.post(
        "/staff/site", data={"site": slug, "csrf_token": actions.csrf_token()},
        follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200
    return response.get_data(as_text=True)


def audited(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return found


def test_staff_of_one_centre_get_no_switcher_and_cannot_switch(district: Flask) -> None:
    client, actions = signed_in(district, "zhao", STAFF_PASSWORD)
    page = residents_page(client)
    assert 'action="/staff/site"' not in page
    refused = switch(client, actions, "dongfang")
    assert "You do not work at that centre" in refused
    assert XINHUA_RESIDENT in residents_page(client)
    assert DONGFANG_RESIDENT not in residents_page(client)
    assert audited(district, "staff.site_switched") == []


def test_a_grant_shows_the_switcher_at_the_next_request_of_a_console_already_open(
    district: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Staff of one centre are most of the console's users: the sign-in check already says
    # they have no grant, so their header reads no list of centres.
    read_centres: list[str] = []
    work_sites = staff_sites.work_sites

    def counted(session: Session, *, staff: StaffAccount) -> list[Site]:
        read_centres.append(staff.username)
        return work_sites(session, staff=staff)

    monkeypatch.setattr(staff_sites, "work_sites", counted)
    client, _actions = signed_in(district, "zhao", STAFF_PASSWORD)
    assert 'action="/staff/site"' not in residents_page(client)
    assert read_centres == []

    assert cli(district, "grant-site", "zhao", "dongfang")[0] == 0
    page = residents_page(client)
    assert 'action="/staff/site"' in page and 'value="dongfang"' in page
    assert read_centres == ["zhao"]

    assert cli(district, "revoke-site", "zhao", "dongfang")[0] == 0
    assert 'action="/staff/site"' not in residents_page(client)


def test_a_worker_given_a_second_centre_switches_and_sees_it(district: Flask) -> None:
    assert cli(district, "grant-site", "zhao", "dongfang") == (0, "zhao may now work at dongfang\n")
    client, actions = signed_in(district, "zhao", STAFF_PASSWORD)
    page = residents_page(client)
    assert 'action="/staff/site"' in page and 'value="dongfang"' in page
    assert XINHUA_RESIDENT in page and DONGFANG_RESIDENT not in page

    switched = switch(client, actions, "dongfang")
    assert "You are now working at Dongfang." in switched
    page = residents_page(client)
    assert DONGFANG_RESIDENT in page and XINHUA_RESIDENT not in page
    # The JSON API works at the same centre as the console it shares the sign-in with.
    found = client.get("/api/v1/residents", query_string={"q": DONGFANG_PHONE}).get_json()
    assert [r["name"] for r in found["items"]] == [DONGFANG_RESIDENT]
    assert client.get("/api/v1/staff/me").get_json()["site"]["slug"] == "dongfang"
    (entry,) = audited(district, "staff.site_switched")[-1:]
    assert entry.actor == "staff:zhao"

    switch(client, actions, "xinhua")
    assert XINHUA_RESIDENT in residents_page(client)


def test_taking_a_centre_away_sends_its_consoles_home_at_their_next_request(
    district: Flask,
) -> None:
    cli(district, "grant-site", "zhao", "dongfang")
    client, actions = signed_in(district, "zhao", STAFF_PASSWORD)
    switch(client, actions, "dongfang")
    assert DONGFANG_RESIDENT in residents_page(client)

    assert cli(district, "revoke-site", "zhao", "dongfang") == (
        0, "zhao no longer works at dongfang\n",
    )  # fmt: skip
    page = residents_page(client)
    assert XINHUA_RESIDENT in page and DONGFANG_RESIDENT not in page
    assert client.get("/api/v1/staff/me").get_json()["site"]["slug"] == "xinhua"
    assert 'action="/staff/site"' not in page


def test_a_revoked_grant_is_refused_at_once_even_before_the_session_is_told(
    district: Flask,
) -> None:
    """The grant row goes and nothing else: the session's stored choice is not what decides."""
    cli(district, "grant-site", "zhao", "dongfang")
    client, actions = signed_in(district, "zhao", STAFF_PASSWORD)
    switch(client, actions, "dongfang")
    with district.app_context(), database().write() as session:
        (grant,) = session.scalars(select(StaffSiteAccess))
        session.delete(grant)
    assert XINHUA_RESIDENT in residents_page(client)
    with district.app_context(), database().read() as session:
        (kept,) = session.scalars(
            select(StaffSession.site_id).where(StaffSession.ended_at.is_(None))
        )
        assert kept is not None  # still stored, no longer honoured


@contextmanager
def open_alert_stream(app: Flask, client: FlaskClient) -> Iterator[Iterator[bytes]]:
    """A long alerts stream that says something at every poll, read one piece at a time, and
    closed afterwards (a stream left suspended is finalised by the garbage collector at some
    later moment, inside whatever another test is doing)."""
    app.config.update(
        STAFF_ALERT_STREAM_SECONDS=600, STAFF_ALERT_POLL_SECONDS=0, STAFF_ALERT_HEARTBEAT_SECONDS=0
    )
    response = client.get("/staff/alerts/stream", buffered=False)
    try:
        chunks = iter(response.response)
        assert next(chunks).startswith(b"retry: ")
        assert next(chunks) == b": still here\n\n"
        yield chunks
    finally:
        response.close()


def test_an_open_alerts_stream_stops_when_its_console_switches_centre(district: Flask) -> None:
    """Another tab of the same sign-in switched: this page's stream was for the old centre."""
    cli(district, "grant-site", "zhao", "dongfang")
    client, actions = signed_in(district, "zhao", STAFF_PASSWORD)
    with open_alert_stream(district, client) as chunks:
        switch(client, actions, "dongfang")
        rest = b"".join(chunks)  # would run for ten minutes if the stream did not notice
    assert rest.startswith(b"event: centre_changed")
    assert b"still here" not in rest


def test_an_open_alerts_stream_stops_when_its_centre_is_taken_away(district: Flask) -> None:
    cli(district, "grant-site", "zhao", "dongfang")
    client, actions = signed_in(district, "zhao", STAFF_PASSWORD)
    switch(client, actions, "dongfang")
    with open_alert_stream(district, client) as chunks:
        cli(district, "revoke-site", "zhao", "dongfang")
        rest = b"".join(chunks)
    assert rest.startswith(b"event: centre_changed")
    assert b"still here" not in rest


def test_a_centres_admin_granted_another_centre_as_staff_does_not_manage_it(
    district: Flask,
) -> None:
    """The home role does not travel: "admin" manages xinhua, and only works at dongfang."""
    assert cli(district, "grant-site", "admin", "dongfang") == (
        0, "admin may now work at dongfang\n",
    )  # fmt: skip
    client, actions = signed_in(district, "admin", ADMIN_PASSWORD)
    assert client.get("/staff/accounts").status_code == 200  # at home
    switch(client, actions, "dongfang")
    assert DONGFANG_RESIDENT in residents_page(client)
    assert client.get("/staff/accounts").status_code == 403
    assert client.get("/staff/admin/api-tokens").status_code == 403

    assert cli(district, "grant-site", "--admin", "admin", "dongfang") == (
        0, "admin may now manage dongfang\n",
    )  # fmt: skip
    accounts = client.get("/staff/accounts")
    assert accounts.status_code == 200  # the next request, no sign-in again
    assert "df.wang" in accounts.get_data(as_text=True)


def test_a_district_admin_works_at_every_centre(district: Flask) -> None:
    client, actions = signed_in(district, "qu.admin", PASSWORD)
    page = residents_page(client)
    assert 'value="dongfang"' in page and 'value="xinhua"' in page
    assert XINHUA_RESIDENT in page
    switch(client, actions, "dongfang")
    page = residents_page(client)
    assert DONGFANG_RESIDENT in page and XINHUA_RESIDENT not in page
    accounts = client.get("/staff/accounts").get_data(as_text=True)
    assert "df.admin" in accounts and "df.wang" in accounts and "zhao" not in accounts


def test_a_district_admin_grants_and_takes_away_from_the_staff_page(district: Flask) -> None:
    client, actions = signed_in(district, "qu.admin", PASSWORD)
    with district.app_context(), database().read() as session:
        dongfang = sites.get_site_by_slug(session, "dongfang").id
        zhao = session.scalar(select(StaffAccount.id).where(StaffAccount.username == "zhao"))
    response = client.post(
        f"/staff/accounts/{zhao}/sites",
        data={"site": "dongfang", "csrf_token": actions.csrf_token()},
    )
    assert response.status_code == 303
    assert "Dongfang" in client.get("/staff/accounts").get_data(as_text=True)
    assert [e.actor for e in audited(district, "staff.site_granted")] == ["staff:qu.admin"]
    zhao_client, zhao_actions = signed_in(district, "zhao", STAFF_PASSWORD)
    switch(zhao_client, zhao_actions, "dongfang")
    assert DONGFANG_RESIDENT in residents_page(zhao_client)

    response = client.post(
        f"/staff/accounts/{zhao}/sites/{dongfang}/revoke", data={"csrf_token": actions.csrf_token()}
    )
    assert response.status_code == 303
    assert XINHUA_RESIDENT in residents_page(zhao_client)


@pytest.mark.parametrize(
    ("username", "slug", "said"),
    [
        ("admin", "xinhua", "That is the account's home centre."),
        ("qu.admin", "dongfang", "A district admin works at every centre already."),
    ],
)
def test_a_grant_that_changes_nothing_says_why(
    district: Flask, username: str, slug: str, said: str
) -> None:
    client, actions = signed_in(district, "qu.admin", PASSWORD)
    with district.app_context(), database().read() as session:
        account = session.scalar(select(StaffAccount.id).where(StaffAccount.username == username))
    response = client.post(
        f"/staff/accounts/{account}/sites",
        data={"site": slug, "csrf_token": actions.csrf_token()}, follow_redirects=True,
    )  # fmt: skip
    assert said in html.unescape(response.get_data(as_text=True))
    assert audited(district, "staff.site_granted") == []


def test_a_centres_admin_gives_nobody_another_centre(district: Flask) -> None:
    client, actions = signed_in(district, "admin", ADMIN_PASSWORD)
    with district.app_context(), database().read() as session:
        zhao = session.scalar(select(StaffAccount.id).where(StaffAccount.username == "zhao"))
    page = client.get("/staff/accounts").get_data(as_text=True)
    assert "/sites" not in page  # no grant form for a centre's admin
    response = client.post(
        f"/staff/accounts/{zhao}/sites",
        data={"site": "dongfang", "csrf_token": actions.csrf_token()}, follow_redirects=True,
    )  # fmt: skip
    assert "Only a district admin gives staff other centres." in response.get_data(as_text=True)
    with district.app_context(), database().read() as session:
        assert list(session.scalars(select(StaffSiteAccess))) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("grant-site", "nobody", "dongfang"), "no staff account 'nobody'"),
        (("grant-site", "zhao", "nowhere"), "nowhere"),
        (("grant-site", "zhao", "xinhua"), "this is the account's home centre"),
        (("grant-site", "qu.admin", "dongfang"), "a district admin works at every centre already"),
        (("revoke-site", "zhao", "dongfang"), "this account has no grant for that centre"),
    ],
)
def test_the_command_line_refuses_what_makes_no_sense(
    district: Flask, args: tuple[str, ...], message: str
) -> None:
    code, output = cli(district, *args)
    assert code != 0 and message in output
    with district.app_context(), database().read() as session:
        assert list(session.scalars(select(StaffSiteAccess))) == []


def test_granting_twice_is_refused(district: Flask) -> None:
    assert cli(district, "grant-site", "zhao", "dongfang")[0] == 0
    code, output = cli(district, "grant-site", "zhao", "dongfang")
    assert code != 0 and "works at that centre already" in output
