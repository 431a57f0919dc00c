"""A database outage on the kiosk: a calm page in Chinese then English, a 503, and the
screen comes back by itself once the database does.

The database really goes away (tests/database_outage.py): a PostgreSQL role that may no
longer log in, or an SQLite file whose locks another process holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.core.clock import FrozenClock
from booking.core.models.outages import Outage
from booking.core.models.uptime import ServicePart
from kiosk.outage import RETRY_AFTER_SECONDS
from tests.conftest import POSTGRES_URL, SKIP_NO_POSTGRES
from tests.database_outage import DatabaseOutage, outage_database
from tests.demo_app import demo_app_on


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DatabaseOutage]:
    if request.param == "postgresql" and not POSTGRES_URL:
        pytest.skip(SKIP_NO_POSTGRES)
    with outage_database(request.param, tmp_path) as found:
        yield found


@pytest.fixture
def outage_app(outage: DatabaseOutage, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    for app in demo_app_on(outage.url, tmp_path, clock):
        yield app
        # The database back before the app lets go of its connections.
        outage.end()


# What the page does is the same whichever database went away; the calm page's test shows
# each backend's failure reaches it. The others run where an outage costs no wait (SQLite
# gives up on held locks only after ten seconds of its own retries, twenty a test).
server_outage_only = pytest.mark.parametrize(
    "outage", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def visible_text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<body", 1)[1]))


def test_during_a_database_outage_the_kiosk_shows_a_calm_page_chinese_first_and_retries_by_itself(
    outage_app: Flask, outage: DatabaseOutage
) -> None:
    client = outage_app.test_client()
    assert client.get("/kiosk/").status_code == 200

    outage.start()
    response = client.get("/kiosk/seats?day=2026-11-24")

    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    page = response.get_data(as_text=True)
    assert "Internal Server Error" not in page and "Traceback" not in page
    words = visible_text(page)
    chinese, english = words.index("服务正在短暂休息"), words.index("taking a short break")
    assert chinese < english
    assert "本页面稍后会自动重试" in words and "try again by itself" in words
    # It reloads the page the resident asked for, without a touch.
    assert (
        f'<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}; '
        'url=/kiosk/seats?day=2026-11-24">' in page
    )

    outage.end()
    again = client.get("/kiosk/seats?day=2026-11-24")
    assert again.status_code == 200
    assert "taking a short break" not in again.get_data(as_text=True)


@server_outage_only
def test_a_form_sent_during_an_outage_is_not_sent_again_by_the_retry(
    outage_app: Flask, outage: DatabaseOutage
) -> None:
    client = outage_app.test_client()
    home = client.get("/kiosk/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', home)
    assert token

    outage.start()
    response = client.post(
        "/kiosk/sign-in",
        data={"phone": "13800000001", "pin": "275139", "csrf_token": token.group(1)},
    )

    assert response.status_code == 503
    assert 'url=/kiosk/">' in response.get_data(as_text=True)


@server_outage_only
def test_the_web_records_the_database_outage_it_saw_when_the_kiosk_next_reaches_it(
    outage_app: Flask, outage: DatabaseOutage, clock: FrozenClock
) -> None:
    from kiosk.extensions import database

    client: FlaskClient = outage_app.test_client()
    home = client.get("/kiosk/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', home)
    assert token
    headers = {"X-CSRFToken": token.group(1)}
    assert client.post("/uptime/kiosk", headers=headers).status_code == 204

    outage.start()
    down_at = clock.now() + timedelta(minutes=1)
    clock.set(down_at)
    assert client.get("/kiosk/").status_code == 503
    clock.advance(timedelta(minutes=1))
    outage.end()
    assert client.post("/uptime/kiosk", headers=headers).status_code == 204

    with outage_app.app_context(), database().read() as session:
        outages = [(o.part, o.started_at, o.ended_at) for o in session.query(Outage)]
    # A minute: shorter than a heartbeat gap, yet recorded, so no strike for it.
    assert outages == [(ServicePart.DATABASE, down_at, down_at + timedelta(minutes=1))]


@server_outage_only
def test_during_a_database_outage_health_is_a_503_naming_the_database(
    outage_app: Flask, outage: DatabaseOutage
) -> None:
    client = outage_app.test_client()
    assert client.get("/healthz").status_code == 200

    outage.start()
    healthz = client.get("/healthz")
    api = client.get("/api/v1/health")
    outage.end()

    assert healthz.status_code == 503
    assert healthz.json == {
        "status": "unavailable",
        "database": "down",
        "device_link": "unknown",
        "down": ["database"],
    }
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "5"
    assert api.json["error"]["code"] == "database_unavailable"
    assert api.json["error"]["details"]["down"] == ["database"]
    assert client.get("/api/v1/health").status_code == 200


@server_outage_only
def test_an_api_call_during_a_database_outage_answers_the_error_envelope(
    outage_app: Flask, outage: DatabaseOutage
) -> None:
    client = outage_app.test_client()
    outage.start()
    response = client.get("/api/v1/site")
    outage.end()

    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert set(response.json["error"]) == {"code", "message", "details"}
    assert response.json["error"]["code"] == "database_unavailable"
    assert client.get("/api/v1/site").status_code == 200


@server_outage_only
def test_the_staff_console_gets_the_same_calm_page_during_an_outage(
    outage_app: Flask, outage: DatabaseOutage
) -> None:
    client = outage_app.test_client()
    # A console that was signed in: its session is looked up in the database.
    client.set_cookie("linli_staff", "a-session-token")
    outage.start()
    response = client.get("/staff/")
    outage.end()

    assert response.status_code == 503
    assert "服务正在短暂休息" in response.get_data(as_text=True)
    assert 'url=/staff/">' in response.get_data(as_text=True)


def test_a_statement_that_lost_a_conflict_is_not_taken_for_an_outage() -> None:
    from sqlalchemy.exc import OperationalError

    from kiosk.outage import is_conflict

    class Refused(Exception):
        def __init__(self, sqlstate: str | None) -> None:
            self.sqlstate = sqlstate

    def error(sqlstate: str | None) -> OperationalError:
        return OperationalError("UPDATE ...", {}, Refused(sqlstate))

    assert is_conflict(error("40P01"))  # deadlock detected
    assert is_conflict(error("40001"))  # serialization failure
    assert not is_conflict(error("57P01"))  # the server is shutting down
    assert not is_conflict(error(None))  # no connection at all
