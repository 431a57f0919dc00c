from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lending_centre import Station, build_station, report_locker

from booking.core.clock import FrozenClock
from booking.core.db import Database


@pytest.fixture
def station(database: Database, clock: FrozenClock) -> Station:
    return build_station(database, clock)


@pytest.fixture
def station_app(app: Flask, clock: FrozenClock) -> Flask:
    """The kiosk app serving the test lending station (no broker configured)."""
    from kiosk.extensions import database as app_database

    with app.app_context():
        built = build_station(app_database(), clock)
    app.config["SITE"] = built.slug
    app.extensions["test_station"] = built
    return app


@pytest.fixture
def app_station(station_app: Flask) -> Station:
    station: Station = station_app.extensions["test_station"]
    return station


@pytest.fixture
def lockers_up(station_app: Flask, app_station: Station, clock: FrozenClock) -> None:
    """The worker runs and the locker has reported its compartments."""
    from kiosk.extensions import database as app_database

    with station_app.app_context():
        report_locker(app_database(), app_station, clock)


@pytest.fixture
def staff(station_app: Flask, app_station: Station) -> FlaskClient:
    """The station's staff member, signed in to the console."""
    from tests.conftest import StaffActions

    client = station_app.test_client()
    assert StaffActions(client).sign_in(username=f"{app_station.slug}-staff").status_code == 302
    return client
