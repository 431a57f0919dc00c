from __future__ import annotations

import pytest
from flask import Flask
from lending_centre import Station, build_station

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
