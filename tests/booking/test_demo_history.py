"""The demo's booking history: past-dated, finished, idempotent, and enough for the charts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from booking import demo_centre, insights
from booking.clock import FrozenClock
from booking.db import Base, Database
from booking.insights import DateRange
from booking.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingSuspension,
    NoShowStrike,
    Resident,
    Site,
)


def seeded_with_history(database: Database, clock: FrozenClock) -> int:
    with database.write() as session:
        demo_centre.seed(session, now=clock.now())
        return demo_centre.seed_history(session, now=clock.now())


def test_history_is_added_once(database: Database, clock: FrozenClock) -> None:
    added = seeded_with_history(database, clock)
    assert added > 500
    with database.write() as session:
        assert demo_centre.seed_history(session, now=clock.now()) == 0
        assert session.scalar(select(func.count()).select_from(Booking)) == added


def test_history_is_the_same_on_every_machine(tmp_path: Path, clock: FrozenClock) -> None:
    seen = []
    for name in ("one", "other"):
        database = Database(f"sqlite:///{tmp_path / name}.sqlite3")
        Base.metadata.create_all(database.engine)
        added = seeded_with_history(database, clock)
        with database.read() as session:
            names = session.scalars(select(Resident.name).order_by(Resident.phone)).all()
            statuses = session.scalars(select(Booking.status).order_by(Booking.id)).all()
        seen.append((added, names, statuses))
        database.dispose()
    assert seen[0] == seen[1]


def test_history_is_finished_before_this_week_and_suspends_nobody(
    database: Database, clock: FrozenClock
) -> None:
    seeded_with_history(database, clock)
    with database.read() as session:
        # The suite's clock is Tuesday 2026-11-24 09:30 in Shanghai; the week began Monday 23rd.
        latest = session.scalar(select(func.max(Booking.ends_at)))
        assert latest is not None and latest.date() < date(2026, 11, 23)
        active = select(func.count()).where(Booking.status.in_(ACTIVE_STATUSES))
        assert session.scalar(active.select_from(Booking)) == 0
        assert session.scalar(select(func.count()).select_from(NoShowStrike)) == 0
        assert session.scalar(select(func.count()).select_from(BookingSuspension)) == 0


def test_history_fills_every_chart_of_the_default_range(
    any_database: Database, clock: FrozenClock
) -> None:
    seeded_with_history(any_database, clock)
    within = DateRange.recent_weeks(date(2026, 11, 24), 8)
    with any_database.read() as session:
        site = session.scalar(select(Site).where(Site.slug == demo_centre.SITE_SLUG))
        assert site is not None
        occupancy = insights.seat_occupancy(session, site_id=site.id, within=within)
        rooms = insights.room_bookings_per_week(session, site_id=site.id, within=within)
        no_shows = insights.no_show_rate_per_week(session, site_id=site.id, within=within)
    assert 0.2 < occupancy.cell(5, 14).rate <= 1  # a Saturday afternoon is busy
    assert all(cell.rate <= 1 for cell in occupancy.cells.values())
    assert sum(rooms.week_total(week) for week in rooms.weeks[-7:-1]) > 30
    assert all(0 < (week.rate or 0) < 0.25 for week in no_shows[2:-1])
