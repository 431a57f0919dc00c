from __future__ import annotations

import pytest
from booking_centre import Centre, build_centre

from booking.core.clock import FrozenClock
from booking.core.db import Database


@pytest.fixture
def centre(any_database: Database, clock: FrozenClock) -> Centre:
    return build_centre(any_database, clock)


@pytest.fixture
def pg_centre(postgres_database: Database, clock: FrozenClock) -> Centre:
    return build_centre(postgres_database, clock)
