"""The demo's booking history: past-dated, finished, idempotent, and enough for the charts."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Base, Database
from booking.core.models.sites import Site
from booking.demo import centre as demo_centre
from booking.demo import history as demo_history
from booking.demo import past_bookings
from booking.health.models.consents import HealthConsent
from booking.health.models.readings import BpReading
from booking.insights import figures as insights
from booking.insights.local_time import DateRange, week_of
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tools import Item, ItemStatus
from booking.messages import sending
from booking.messages.models.outbox import MessageState, OutboxMessage
from booking.people.models.residents import Resident
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.series import BookingSeries
from booking.spaces.models.spaces import Space
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension

THIS_MONDAY = datetime(2026, 11, 23, tzinfo=ZoneInfo("Asia/Shanghai"))
LOANS = 133  # what the fixed seed makes of the suite's clock


def seeded_with_history(database: Database, clock: FrozenClock) -> int:
    with database.write() as session:
        demo_centre.seed(session, now=clock.now())
        return past_bookings.seed_history(session, now=clock.now())


def test_history_is_added_once(database: Database, clock: FrozenClock) -> None:
    added = seeded_with_history(database, clock)
    assert added > 500
    with database.write() as session:
        assert past_bookings.seed_history(session, now=clock.now()) == 0
        one_off = select(func.count()).where(Booking.series_id.is_(None)).select_from(Booking)
        assert session.scalar(one_off) == added
        assert session.scalar(select(func.count()).select_from(Loan)) == LOANS


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
        # The weekly classes are booked ahead (see below); everything else is over.
        one_off = Booking.series_id.is_(None)
        latest = session.scalar(select(func.max(Booking.ends_at)).where(one_off))
        assert latest is not None and latest.date() < date(2026, 11, 23)
        active = select(func.count()).where(Booking.status.in_(ACTIVE_STATUSES), one_off)
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


def test_history_lends_and_takes_back_through_the_lending_rules(
    database: Database, clock: FrozenClock
) -> None:
    seeded_with_history(database, clock)
    with database.read() as session:
        loans = session.scalars(select(Loan)).all()
        assert len(loans) == LOANS
        assert all(loan.returned_at is not None for loan in loans)
        assert max(loan.returned_at for loan in loans if loan.returned_at) < THIS_MONDAY
        # Back before it was due, or late and marked overdue first, as the daily job marks it.
        for loan in loans:
            assert loan.returned_at is not None
            assert loan.returned_at < loan.due_at or loan.overdue_since is not None
        # Lent and brought back at the counter while the centre is open (08:00 to 21:00).
        for moment in [loan.started_at for loan in loans] + [loan.returned_at for loan in loans]:
            assert moment is not None
            assert time(8) <= moment.astimezone(THIS_MONDAY.tzinfo).time() <= time(21)
        went_overdue = [loan for loan in loans if loan.overdue_since is not None]
        assert 0.05 < len(went_overdue) / len(loans) < 0.3
        # Late, but once per resident: nobody starts the demo unable to borrow.
        assert len({loan.resident_id for loan in went_overdue}) == len(went_overdue)
        assert session.scalar(select(func.count()).select_from(LendingSuspension)) == 0
        assert session.scalars(select(Item.status).distinct()).all() == [ItemStatus.AVAILABLE]
        actions = session.scalars(select(LendingEvent.action)).all()
        assert actions.count(LendingAction.LENT) == actions.count(LendingAction.RETURNED) == LOANS
        assert actions.count(LendingAction.MARKED_OVERDUE) == len(went_overdue)


def test_history_lends_in_every_week_up_to_this_one(database: Database, clock: FrozenClock) -> None:
    # The loans used to end two weeks before this week, and the district overview's weekly
    # loans fell to zero there at every centre: a demo whose lending seemed to have stopped.
    seeded_with_history(database, clock)
    with database.read() as session:
        started = session.scalars(select(Loan.started_at)).all()
    weeks = {week_of(moment.astimezone(THIS_MONDAY.tzinfo).date()) for moment in started}
    this_week = THIS_MONDAY.date()
    assert weeks == {
        this_week - timedelta(weeks=back) for back in range(1, demo_history.LOAN_WEEKS + 1)
    }


def test_history_readings_are_of_consenting_residents_and_their_alerts_followed_up(
    database: Database, clock: FrozenClock
) -> None:
    seeded_with_history(database, clock)
    with database.read() as session:
        readers = set(session.scalars(select(BpReading.resident_id)).all())
        consenting = set(session.scalars(select(HealthConsent.resident_id)).all())
        assert len(readers) >= 4 and readers <= consenting
        latest = session.scalar(select(func.max(BpReading.measured_at)))
        assert latest is not None and latest < THIS_MONDAY
        raised = session.scalars(select(StaffAlert).where(StaffAlert.kind.startswith("bp."))).all()
        assert {alert.kind for alert in raised} == {"bp.urgent", "bp.follow_up"}
        assert all(alert.status is AlertStatus.RESOLVED and alert.note for alert in raised)
        assert not any(re.search(r"\d", alert.summary) for alert in raised)  # no reading shown


def test_history_books_the_weekly_classes_ahead_as_series(
    database: Database, clock: FrozenClock
) -> None:
    seeded_with_history(database, clock)
    with database.read() as session:
        tai_chi = session.scalars(
            select(BookingSeries).where(BookingSeries.title == "太极拳班")
        ).one()
        assert (tai_chi.weekday, tai_chi.start_time, tai_chi.end_time) == (1, time(9), time(10))
        assert session.get_one(Space, tai_chi.space_id).code == "dance"
        service_day = session.scalars(
            select(BookingSeries).where(BookingSeries.title == "便民服务日")
        ).one()
        assert service_day.weekday == 4
        booked = session.scalars(
            select(Booking).where(Booking.series_id == tai_chi.id).order_by(Booking.starts_at)
        ).all()
        assert len(booked) >= 3
        assert all(b.status is BookingStatus.CONFIRMED for b in booked)
        assert booked[0].starts_at.astimezone(ZoneInfo("Asia/Shanghai")).date() == date(2026, 12, 1)


def test_history_fills_the_loans_and_blood_pressure_charts(
    any_database: Database, clock: FrozenClock
) -> None:
    seeded_with_history(any_database, clock)
    within = DateRange.recent_weeks(date(2026, 11, 24), 8)
    with any_database.read() as session:
        site = session.scalar(select(Site).where(Site.slug == demo_centre.SITE_SLUG))
        assert site is not None
        tools = insights.loans_per_tool_type(session, site_id=site.id, within=within)
        bp = insights.bp_alerts_per_week(session, site_id=site.id, within=within)
    assert sum(tool.loans for tool in tools) == LOANS
    assert len([tool for tool in tools if tool.loans]) >= 4
    assert sum(tool.overdue for tool in tools) > 0
    assert sum(week.urgent for week in bp) > 0 and sum(week.follow_up for week in bp) > 0
    assert len([week for week in bp if week.total]) >= 4


def test_the_district_demo_s_centres_each_have_a_past_the_smaller_ones_less(
    database: Database, clock: FrozenClock
) -> None:
    # The district overview compares centres' weekly trends side by side: with the first
    # centre's past alone, the other two charts of `make demo DISTRICT=1` were flat at zero.
    from booking.demo import district as demo_district

    with database.write() as session:
        demo_district.seed(session, now=clock.now())
        added = past_bookings.seed_history(session, now=clock.now())
    within = DateRange.recent_weeks(date(2026, 11, 24), 8)
    past: dict[str, tuple[int, int, int]] = {}
    with database.read() as session:
        for centre in demo_district.CENTRES:
            site = session.scalars(select(Site).where(Site.slug == centre.slug)).one()
            bookings = session.scalar(
                select(func.count()).where(Booking.site_id == site.id, Booking.series_id.is_(None))
            )
            loans = sum(
                tool.loans
                for tool in insights.loans_per_tool_type(session, site_id=site.id, within=within)
            )
            readings = session.scalar(
                select(func.count()).where(BpReading.site_id == site.id).select_from(BpReading)
            )
            past[centre.slug] = (bookings or 0, loans, readings or 0)
        assert session.scalar(select(func.count()).select_from(LendingSuspension)) == 0
    xinhua, hongqiao, jiangning = (past[centre.slug] for centre in demo_district.CENTRES)
    # The first centre's past is the single demo's, unchanged.
    assert xinhua[1] == LOANS
    assert sum(counts[0] for counts in past.values()) == added
    for bigger, smaller in ((xinhua, hongqiao), (hongqiao, jiangning)):
        assert bigger[0] > smaller[0] > 0 and bigger[1] > smaller[1] > 0
    assert hongqiao[2] > 0 and jiangning[2] > 0
    with database.write() as session:
        assert past_bookings.seed_history(session, now=clock.now()) == 0


def test_what_the_history_told_residents_went_out_and_the_first_round_sends_nothing_stale(
    database: Database, clock: FrozenClock
) -> None:
    # Left queued, the history's overdue notices were sent weeks late on the demo's start,
    # and now would each be dropped as too old with an alert to staff.
    seeded_with_history(database, clock)
    with database.read() as session:
        states = Counter(session.scalars(select(OutboxMessage.state)))
    assert states[MessageState.SENT] > 0
    assert states[MessageState.QUEUED] == 0
    assert sending.send_due(database, {}, now=clock.now()) == sending.Round()
    with database.read() as session:
        assert (
            session.scalars(select(StaffAlert).where(StaffAlert.kind == "message.expired")).all()
            == []
        )
