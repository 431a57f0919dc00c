"""/healthz and /api/v1/health check the database and the device link, and answer 503 naming
the part that is down. The device link's part is read from the database (the row the worker's
bridge beats), so these run on PostgreSQL and SQLite; the database outage itself is in
test_database_outage.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.fleet.link_status import STALE_AFTER, record_link
from devices.models.links import LinkState


@pytest.fixture
def linked_app(any_database: Database, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    """The app of a deployment with a broker, so it has a device link to check; its own
    centre (xinhua) is the deployment's only one."""
    from kiosk import create_app
    from kiosk.extensions import database

    with any_database.write() as session:
        sites.create_site(session, slug="xinhua", name_zh="新华", name_en="Xinhua")

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": any_database.url,
            "CLOCK": clock,
            "MQTT_URL": "mqtt://127.0.0.1:1",
        }
    )
    app.instance_path = str(tmp_path)
    yield app
    with app.app_context():
        database().dispose()


def bridge_beats(database: Database, clock: FrozenClock, state: LinkState) -> None:
    """What the worker's bridge records while it runs (the app's site is the default one)."""
    with database.write() as session:
        record_link(
            session, site="xinhua", client_id="linli-server-xinhua", state=state, now=clock.now()
        )


def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    return error


def test_without_a_broker_there_is_no_device_link_to_check(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "database": "ok",
        "device_link": "not_configured",
    }


def test_with_the_worker_running_both_parts_are_ok(
    linked_app: Flask, any_database: Database, clock: FrozenClock
) -> None:
    bridge_beats(any_database, clock, LinkState.CONNECTED)
    client = linked_app.test_client()

    assert client.get("/healthz").json == {
        "status": "ok",
        "database": "ok",
        "device_link": "ok",
        "centres": {"xinhua": "ok"},
        "centres_down": [],
    }
    api = client.get("/api/v1/health")
    assert api.status_code == 200
    assert (api.json["database"], api.json["device_link"]) == ("ok", "ok")


def test_with_no_worker_running_health_is_a_503_naming_the_device_link(
    linked_app: Flask,
) -> None:
    client = linked_app.test_client()

    healthz = client.get("/healthz")
    assert healthz.status_code == 503
    assert healthz.headers["Retry-After"] == "5"
    assert healthz.json == {
        "status": "unavailable",
        "database": "ok",
        "device_link": "down",
        "down": ["device_link"],
        "centres": {"xinhua": "down"},
        "centres_down": ["xinhua"],
    }
    api = client.get("/api/v1/health")
    assert api.status_code == 503
    error = error_of(api)
    assert error["code"] == "device_link_down"
    assert "worker" in error["message"]
    assert error["details"]["down"] == ["device_link"]


@pytest.mark.parametrize("state", [LinkState.DISCONNECTED, LinkState.STOPPED])
def test_a_worker_whose_bridge_has_no_broker_or_stopped_is_a_down_device_link(
    linked_app: Flask, any_database: Database, clock: FrozenClock, state: LinkState
) -> None:
    bridge_beats(any_database, clock, state)

    response = linked_app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json["down"] == ["device_link"]


def test_a_worker_whose_bridge_stopped_beating_died_without_saying_so(
    linked_app: Flask, any_database: Database, clock: FrozenClock
) -> None:
    bridge_beats(any_database, clock, LinkState.CONNECTED)
    clock.advance(STALE_AFTER + timedelta(seconds=1))

    response = linked_app.test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json["down"] == ["device_link"]


def test_every_centre_s_device_link_is_listed_and_only_the_own_centre_decides_the_status(
    linked_app: Flask, any_database: Database, clock: FrozenClock
) -> None:
    """One worker bridges a district: a monitor sees each centre's bridge; a load balancer
    keeps the web in while another centre's bridge is down."""
    with any_database.write() as session:
        sites.create_site(session, slug="dongfang", name_zh="东方", name_en="Dongfang")
        sites.create_site(session, slug="hongqiao", name_zh="虹桥", name_en="Hongqiao")
    bridge_beats(any_database, clock, LinkState.CONNECTED)
    with any_database.write() as session:
        record_link(
            session, site="dongfang", client_id="linli-server-dongfang",
            state=LinkState.DISCONNECTED, now=clock.now(),
        )  # fmt: skip

    response = linked_app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json["centres"] == {"dongfang": "down", "hongqiao": "down", "xinhua": "ok"}
    assert response.json["centres_down"] == ["dongfang", "hongqiao"]
