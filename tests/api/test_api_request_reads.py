"""The fast path of the signed-in API reads (bench/api_load.py): one read transaction per
request, an answer built without marshmallow, and the staff session still checked,
revocable and expiring on every request."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from booking.core.clock import FrozenClock
from booking.people import auth_sessions
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.spaces import availability, seats
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from kiosk.api.booking_schemas import SeatAvailabilitySchema
from kiosk.extensions import database
from tests.conftest import StaffActions

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 24, 14, tzinfo=SHANGHAI)


@pytest.fixture
def study(app: Flask, demo: None, staff_auth: StaffActions) -> int:
    staff_auth.sign_in()
    with app.app_context(), database().read() as session:
        return session.scalars(select(Space.id).where(Space.code == "study")).one()


def seats_url(study: int, starts_at: datetime, ends_at: datetime) -> str:
    query = urlencode({"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    return f"/api/v1/spaces/{study}/seats?{query}"


def test_seat_availability_answers_exactly_what_its_schema_would_dump(
    app: Flask, client: FlaskClient, study: int, clock: FrozenClock
) -> None:
    end = START + timedelta(hours=2)
    with app.app_context(), database().write() as session:
        seat = session.scalars(select(Seat).where(Seat.space_id == study, Seat.number == 3)).one()
        resident = session.scalars(select(Resident).where(Resident.phone == "13800000001")).one()
        seats.book_seat(
            session,
            resident_id=resident.id,
            seat_id=seat.id,
            starts_at=START,
            ends_at=START + timedelta(hours=1),
            now=clock.now(),
        )
    with app.app_context(), database().read() as session:
        site_id = session.get_one(Space, study).site_id
        states = availability.seat_states(
            session, site_id=site_id, space_id=study, starts_at=START, ends_at=end
        )
    expected = SeatAvailabilitySchema().dump(
        {"space_id": study, "starts_at": START, "ends_at": end, "seats": states}
    )

    response = client.get(seats_url(study, START, end))

    assert response.status_code == 200
    assert response.json == expected
    assert response.json["starts_at"] == "2026-11-24T06:00:00+00:00"  # given +08:00, said in UTC
    assert [s["free"] for s in response.json["seats"] if s["number"] == 3] == [False]


def test_a_signed_in_availability_request_uses_one_database_transaction(
    app: Flask, client: FlaskClient, study: int
) -> None:
    client.get(seats_url(study, START, START + timedelta(hours=2)))  # marks the session seen
    checkouts: list[Any] = []
    engine = app.extensions["linli.db"].engine

    def count(*args: Any) -> None:
        checkouts.append(args)

    event.listen(engine, "checkout", count)
    try:
        response = client.get(seats_url(study, START, START + timedelta(hours=2)))
    finally:
        event.remove(engine, "checkout", count)
    assert response.status_code == 200
    assert len(checkouts) == 1


def test_the_request_read_session_gives_its_connection_back_when_the_request_ends(
    app: Flask, client: FlaskClient, study: int
) -> None:
    response = client.get(seats_url(study, START, START + timedelta(hours=2)))

    assert response.status_code == 200
    assert app.extensions["linli.db"].engine.pool.checkedout() == 0


def test_a_staff_session_ended_on_the_server_is_refused_at_the_next_api_read(
    app: Flask, client: FlaskClient, study: int, clock: FrozenClock
) -> None:
    assert client.get(seats_url(study, START, START + timedelta(hours=2))).status_code == 200
    with app.app_context(), database().write() as session:
        zhao = session.scalars(select(StaffAccount).where(StaffAccount.username == "zhao")).one()
        auth_sessions.end_all_staff_sessions(
            session, staff_id=zhao.id, now=clock.now(), reason="revoked"
        )

    response = client.get(seats_url(study, START, START + timedelta(hours=2)))

    assert response.status_code == 401
    assert response.json["error"]["code"] == "session_expired"


def test_a_staff_session_idle_for_31_minutes_is_refused_at_the_next_api_read(
    client: FlaskClient, study: int, clock: FrozenClock
) -> None:
    assert client.get(seats_url(study, START, START + timedelta(hours=2))).status_code == 200
    clock.advance(timedelta(minutes=31))

    response = client.get(seats_url(study, START, START + timedelta(hours=2)))

    assert response.status_code == 401


def test_a_staff_session_used_every_29_minutes_stays_signed_in(
    client: FlaskClient, study: int, clock: FrozenClock
) -> None:
    for _ in range(4):
        clock.advance(timedelta(minutes=29))
        assert client.get(seats_url(study, START, START + timedelta(hours=2))).status_code == 200
