"""An app on either database with the demo centre, for the tests that throw bad input at it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

from booking.core.clock import FrozenClock
from booking.core.db import Base


def demo_app_on(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    from booking.demo import centre as demo_centre
    from kiosk import create_app
    from kiosk.extensions import database

    clock = FrozenClock(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))  # the suite's Tuesday
    app = create_app({"TESTING": True, "SECRET_KEY": "bad input", "CLOCK": clock,
                      "DATABASE_URL": database_url})  # fmt: skip
    app.instance_path = str(tmp_path)
    with app.app_context():
        Base.metadata.create_all(database().engine)
        with database().write() as session:
            demo_centre.seed(session, now=clock.now())
    yield app
    with app.app_context():
        database().dispose()
