"""A console session is marked seen at most once a minute, so most requests write nothing,
and yet an ended session or a disabled account is refused at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.people import auth_sessions
from booking.people import staff as staff_service
from booking.people.models.staff_sessions import StaffSession
from kiosk.extensions import database
from tests.conftest import StaffActions

pytestmark = pytest.mark.usefixtures("demo")
SIGN_IN = "/staff/sign-in"


def last_seen(app: Flask) -> datetime:
    with app.app_context(), database().read() as session:
        return session.scalars(select(StaffSession.last_seen_at)).one()


def test_a_request_within_a_minute_of_the_last_mark_writes_nothing(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    staff_auth.sign_in()
    signed_in_at = clock.now()
    clock.advance(timedelta(seconds=59))
    assert client.get("/staff/").status_code == 200
    assert last_seen(app) == signed_in_at


def test_a_request_a_minute_after_the_last_mark_marks_the_session_seen(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    staff_auth.sign_in()
    clock.advance(auth_sessions.SEEN_GRANULARITY)
    assert client.get("/staff/").status_code == 200
    assert last_seen(app) == clock.now()


def test_a_session_ended_elsewhere_is_refused_within_the_minute(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    staff_auth.sign_in()
    with app.app_context(), database().write() as session:
        account = staff_service.get_staff_by_username(session, "zhao")
        auth_sessions.end_all_staff_sessions(
            session, staff_id=account.id, now=clock.now(), reason="test"
        )
    clock.advance(timedelta(seconds=5))
    assert client.get("/staff/").location.startswith(SIGN_IN)


def test_a_disabled_account_is_refused_within_the_minute(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    staff_auth.sign_in()
    with app.app_context(), database().write() as session:
        account = staff_service.get_staff_by_username(session, "zhao")
        account.is_active = False  # directly: set_active would also end the sessions
    clock.advance(timedelta(seconds=5))
    assert client.get("/staff/").location.startswith(SIGN_IN)
