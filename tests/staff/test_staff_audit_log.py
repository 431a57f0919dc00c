"""The console's audit log: read-only, filtered by person, action and local date, paged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core import audit
from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from kiosk.extensions import database
from kiosk.staff.audit_log import PAGE_SIZE
from tests.conftest import StaffActions

pytestmark = pytest.mark.usefixtures("demo")


def record(
    app: Flask, clock: FrozenClock, action: str, actor: str = "staff:zhao", subject: str = ""
) -> None:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        audit.record(
            session, action=action, actor=actor, now=clock.now(), site_id=site.id, subject=subject
        )


def table(response: Any) -> str:
    """The log's table, without the filter form's suggestions."""
    return str(response.get_data(as_text=True).split('<table class="table audit-log">')[1])


@pytest.fixture
def signed_in(client: FlaskClient, staff_auth: StaffActions, demo: None) -> StaffActions:
    staff_auth.sign_in()
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


@pytest.mark.usefixtures("signed_in")
def test_the_log_lists_entries_newest_first(
    app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    record(app, clock, "booking.approve", subject="booking:1")
    clock.advance(timedelta(minutes=1))
    record(app, clock, "health.viewed", subject="resident:2")
    page = table(client.get("/staff/audit"))
    assert page.index("Health readings viewed") < page.index("Booking approved")


@pytest.mark.usefixtures("signed_in")
def test_the_log_filters_by_person_given_as_a_username(
    app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    record(app, clock, "booking.approve", actor="staff:zhao", subject="booking:11")
    record(app, clock, "booking.approve", actor="staff:admin", subject="booking:22")
    page = client.get("/staff/audit?person=admin").get_data(as_text=True)
    assert "Booking no. 22" in page and "Booking no. 11" not in page


@pytest.mark.usefixtures("signed_in")
def test_the_log_filters_by_the_start_of_an_action(
    app: Flask, client: FlaskClient, clock: FrozenClock
) -> None:
    record(app, clock, "alert.resolved", subject="alert:1")
    record(app, clock, "health.viewed", subject="resident:3")
    page = client.get("/staff/audit?action=alert.").get_data(as_text=True)
    assert "Alert no. 1" in page and "Resident no. 3" not in page


@pytest.mark.usefixtures("signed_in")
def test_the_log_filters_by_local_date(app: Flask, client: FlaskClient, clock: FrozenClock) -> None:
    now = clock.now()  # 24 Nov, 09:30 Shanghai
    clock.set(now - timedelta(hours=9))  # 24 Nov 00:30 Shanghai, still 23 Nov in UTC
    record(app, clock, "booking.approve", subject="booking:just-after-midnight")
    clock.set(now - timedelta(hours=10))  # 23 Nov 23:30 Shanghai
    record(app, clock, "booking.approve", subject="booking:the-evening-before")
    clock.set(now)
    page = table(client.get("/staff/audit?date_from=2026-11-24&date_to=2026-11-24"))
    assert "Booking no. just-after-midnight" in page
    assert "Booking no. the-evening-before" not in page


@pytest.mark.usefixtures("signed_in")
def test_the_log_pages_older_entries(app: Flask, client: FlaskClient, clock: FrozenClock) -> None:
    for n in range(PAGE_SIZE + 1):
        clock.advance(timedelta(seconds=1))
        record(app, clock, "booking.approve", subject=f"booking:{n}x")
    first = client.get("/staff/audit?action=booking.").get_data(as_text=True)
    assert f"Booking no. {PAGE_SIZE}x" in first and "Booking no. 0x" not in first
    assert 'rel="next"' in first
    second = client.get("/staff/audit?action=booking.&page=2").get_data(as_text=True)
    assert "Booking no. 0x" in second and 'rel="next"' not in second


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    "query",
    ["date_from=soon", "date_from=2026-11-25&date_to=2026-11-24", "page=0", "person=" + "x" * 81],
)
def test_a_bad_filter_is_refused_with_a_message(client: FlaskClient, query: str) -> None:
    response = client.get(f"/staff/audit?{query}")
    assert response.status_code == 400
    assert 'class="errors"' in response.get_data(as_text=True)


@pytest.mark.usefixtures("signed_in")
def test_the_log_cannot_be_changed_through_the_console(client: FlaskClient, app: Flask) -> None:
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff/audit")
        for method in rule.methods or ()
    }
    assert methods <= {"GET", "HEAD", "OPTIONS"}


def test_the_log_is_for_signed_in_staff_only(client: FlaskClient) -> None:
    assert client.get("/staff/audit").status_code == 302
