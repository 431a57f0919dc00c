from __future__ import annotations

import pytest
from lending_centre import Station, build_station

from booking.clock import FrozenClock
from booking.db import Database


@pytest.fixture
def station(database: Database, clock: FrozenClock) -> Station:
    return build_station(database, clock)
