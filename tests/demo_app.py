"""An app on any database URL with the demo centre seeded, at the test's clock: for the tests
that must run on both databases (or on one that goes away) rather than the suite's SQLite
``app`` fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import Flask

from booking.core.clock import FrozenClock
from tests.conftest import create_tables


def demo_app_on(database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    """Yields the app once; disposes of its connections when resumed."""
    from booking.demo import centre as demo_centre
    from kiosk import create_app
    from kiosk.extensions import database

    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CLOCK": clock,
                      "DATABASE_URL": database_url})  # fmt: skip
    app.instance_path = str(tmp_path)
    with app.app_context():
        create_tables(database().engine)
        with database().write() as session:
            demo_centre.seed(session, now=clock.now())
    yield app
    with app.app_context():
        database().dispose()
