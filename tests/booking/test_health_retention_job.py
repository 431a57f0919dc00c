"""The worker's retention job purges readings older than the site's period."""

from __future__ import annotations

from datetime import timedelta

from health_centre import build_health_centre, raw_reading
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.health import pairing as health_pairing
from booking.health.models.readings import BpReading
from kiosk import scheduler


def test_the_retention_job_purges_readings_older_than_two_years(
    database: Database, clock: FrozenClock
) -> None:
    centre = build_health_centre(database, clock)
    with database.write() as session:
        for age in (800, 10):
            health_pairing.reading_received(
                session,
                site_id=centre.site_id,
                device_id="bp-1",
                card_id="C-FAMILY",
                now=clock.now(),
                **raw_reading(measured_at=clock.now() - timedelta(days=age)),
            )
    scheduler.set_runtime(database, clock)
    scheduler.purge_expired_health_readings()
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(BpReading)) == 1
