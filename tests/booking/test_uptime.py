from __future__ import annotations

from booking_centre import Centre, at, keep_alive

from booking import uptime
from booking.db import Database
from booking.models import Outage


def test_a_gap_between_heartbeats_longer_than_three_minutes_is_recorded_as_an_outage(
    any_database: Database, centre: Centre
) -> None:
    keep_alive(any_database, centre.site_id, at(9), at(9, 10))
    keep_alive(any_database, centre.site_id, at(10), at(10, 5))
    with any_database.read() as session:
        assert [(o.started_at, o.ended_at) for o in session.query(Outage).all()] == [
            (at(9, 10), at(10))
        ]
        assert uptime.was_up(session, site_id=centre.site_id, starts_at=at(9), ends_at=at(9, 10))
        assert not uptime.was_up(
            session, site_id=centre.site_id, starts_at=at(9, 5), ends_at=at(9, 30)
        )


def test_nothing_before_the_first_heartbeat_counts_as_up(
    any_database: Database, centre: Centre
) -> None:
    keep_alive(any_database, centre.site_id, at(10), at(10, 30))
    with any_database.read() as session:
        assert not uptime.was_up(
            session, site_id=centre.site_id, starts_at=at(9, 45), ends_at=at(10, 15)
        )
