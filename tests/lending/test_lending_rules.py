"""The lending rules, on the domain services alone (the locker's part is played by calling
the functions its events call)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from lending_centre import Station, build_station, staff_of
from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts.models.alerts import AlertSeverity, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import door_session
from booking.lending import eligibility as lending_eligibility
from booking.lending import history as lending_history
from booking.lending import jobs as lending_jobs
from booking.lending import operations as lending
from booking.lending.errors import (
    InvalidCondition,
    ItemUnavailable,
    LendingSuspended,
    LoanLimitReached,
    NoItemAvailable,
    OverdueLoanOutstanding,
    WrongLendingState,
)
from booking.lending.history import DeviceRef
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.policies import LendingPolicy
from booking.lending.models.tools import Item, ItemStatus

SEQ = iter(range(1, 10**6))


def ref(station: Station) -> DeviceRef:
    return DeviceRef(station.locker, 1, next(SEQ))


def reserve(
    session: Session, station: Station, resident_id: int, tool_type_id: int, now: datetime
) -> DoorSession:
    """The resident holds a locker item of the type at the station."""
    return lending.reserve(
        session, site_id=station.site_id, resident_id=resident_id,
        tool_type_id=tool_type_id, now=now,
    )  # fmt: skip


def opening_pickup(
    session: Session, station: Station, resident_id: int, tool_type_id: int, now: datetime
) -> DoorSession:
    """A pickup whose compartment has been asked to open (the locker has not answered)."""
    reservation = reserve(session, station, resident_id, tool_type_id, now)
    door_session.open_requested(session, reservation, command_id=str(uuid.uuid4()), now=now)
    return reservation


def pick_up(
    session: Session, station: Station, resident_id: int, tool_type_id: int, now: datetime
) -> Loan:
    """A locker pickup that goes well: reserve, open, door opens, the tool leaves."""
    reservation = opening_pickup(session, station, resident_id, tool_type_id, now)
    door_session.unlocked(session, reservation, now)
    door_session.door_opened(session, reservation, now, ref(station))
    door_session.item_sensed(session, reservation, False, now, ref(station))
    door_session.door_closed(session, reservation, now, ref(station))
    assert reservation.state is DoorSessionState.COMPLETED and reservation.loan_id is not None
    return session.get_one(Loan, reservation.loan_id)


def test_reserving_holds_the_first_free_locker_item_for_two_hours(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        reservation = reserve(
            session, station, station.residents[0], station.drill_type, clock.now()
        )
        assert reservation.item_id == station.drills[0]
        assert reservation.compartment == 1
        assert reservation.expires_at == clock.now() + timedelta(hours=2)
        assert session.get_one(Item, station.drills[0]).status is ItemStatus.RESERVED


def test_a_drill_is_lent_for_three_days_and_a_ladder_for_two(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        drill = pick_up(session, station, station.residents[0], station.drill_type, clock.now())
        ladder = pick_up(session, station, station.residents[0], station.ladder_type, clock.now())
        assert drill.due_at == clock.now() + timedelta(days=3)
        assert ladder.due_at == clock.now() + timedelta(days=2)
        assert drill.channel is LoanChannel.LOCKER and drill.status is LoanStatus.ACTIVE
        assert session.get_one(Item, drill.item_id).status is ItemStatus.ON_LOAN


def test_a_fourth_item_is_refused_counting_reservations(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    with database.write() as session:
        pick_up(session, station, resident, station.drill_type, clock.now())
        pick_up(session, station, resident, station.drill_type, clock.now())
        reserve(session, station, resident, station.drill_type, clock.now())
    with database.write() as session, pytest.raises(LoanLimitReached):
        reserve(session, station, resident, station.ladder_type, clock.now())


def test_the_limit_follows_the_sites_policy(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        session.add(LendingPolicy(site_id=station.site_id, max_items_on_loan=1))
    with database.write() as session:
        pick_up(session, station, station.residents[0], station.drill_type, clock.now())
    with database.write() as session, pytest.raises(LoanLimitReached):
        reserve(session, station, station.residents[0], station.ladder_type, clock.now())


def test_no_free_item_in_a_locker_is_refused(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        pick_up(session, station, station.residents[0], station.ladder_type, clock.now())
    with database.write() as session, pytest.raises(NoItemAvailable):
        reserve(session, station, station.residents[1], station.ladder_type, clock.now())


def test_a_counter_item_is_never_reserved_for_a_locker_pickup(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session, pytest.raises(NoItemAvailable):
        reserve(session, station, station.residents[0], station.cart_type, clock.now())


def test_an_expired_hold_is_released_once_and_the_item_is_free_again(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        reservation = reserve(
            session, station, station.residents[0], station.drill_type, clock.now()
        )
    assert lending_jobs.run_due(database, now=clock.now() + timedelta(minutes=119)) == 0
    later = clock.now() + timedelta(hours=2)
    assert lending_jobs.run_due(database, now=later) == 1
    assert lending_jobs.run_due(database, now=later) == 0
    with database.read() as session:
        row = session.get_one(DoorSession, reservation.id)
        assert row.state is DoorSessionState.RELEASED
        assert row.release_reason is ReleaseReason.HOLD_EXPIRED
        assert session.get_one(Item, row.item_id).status is ItemStatus.AVAILABLE


def test_a_compartment_unlocked_but_not_opened_in_60_s_releases_the_pickup_10_s_later(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        reservation = opening_pickup(
            session, station, station.residents[0], station.drill_type, clock.now()
        )
        door_session.unlocked(session, reservation, clock.now())
    # The locker relocks at 60 s; its door_opened may still be on the way for a moment.
    assert lending_jobs.run_due(database, now=clock.now() + timedelta(seconds=70)) == 0
    assert lending_jobs.run_due(database, now=clock.now() + timedelta(seconds=71)) == 1
    with database.read() as session:
        row = session.get_one(DoorSession, reservation.id)
        assert row.release_reason is ReleaseReason.DOOR_NOT_OPENED
        assert session.get_one(Item, row.item_id).status is ItemStatus.AVAILABLE
        assert session.scalar(select(Loan.id)) is None


def test_the_door_closing_with_the_tool_inside_makes_no_loan(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        reservation = opening_pickup(
            session, station, station.residents[0], station.drill_type, clock.now()
        )
        door_session.door_opened(session, reservation, clock.now(), ref(station))
        door_session.door_closed(session, reservation, clock.now(), ref(station))
        assert reservation.release_reason is ReleaseReason.ITEM_LEFT_INSIDE
        assert session.get_one(Item, reservation.item_id).status is ItemStatus.AVAILABLE
        assert session.scalar(select(Loan.id)) is None


def test_a_loan_is_made_only_once_the_door_is_open(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        reservation = opening_pickup(
            session, station, station.residents[0], station.drill_type, clock.now()
        )
        with pytest.raises(WrongLendingState):
            door_session.item_sensed(session, reservation, False, clock.now(), ref(station))
        assert session.scalar(select(Loan.id)) is None


def test_the_daily_job_marks_a_loan_overdue_after_its_due_time(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        loan = pick_up(session, station, station.residents[0], station.ladder_type, clock.now())
    lending_jobs.run_due(database, now=loan.due_at - timedelta(seconds=1))
    lending_jobs.run_due(database, now=loan.due_at)
    with database.read() as session:
        row = session.get_one(Loan, loan.id)
        assert row.status is LoanStatus.OVERDUE
        assert row.overdue_since == loan.due_at
        assert session.get_one(Item, loan.item_id).status is ItemStatus.OVERDUE


def test_an_overdue_loan_is_shown_once_at_the_next_sign_in(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    with database.write() as session:
        loan = pick_up(session, station, resident, station.ladder_type, clock.now())
    lending_jobs.run_due(database, now=loan.due_at)
    with database.write() as session:
        due = lending_eligibility.loans_to_remind(
            session, site_id=station.site_id, resident_id=resident
        )
        assert [d.id for d in due] == [loan.id]
        lending_eligibility.mark_reminded(session, due, loan.due_at + timedelta(hours=1))
    with database.read() as session:
        assert (
            lending_eligibility.loans_to_remind(
                session, site_id=station.site_id, resident_id=resident
            )
            == []
        )


def test_an_overdue_item_must_come_back_before_another_is_borrowed(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    with database.write() as session:
        loan = pick_up(session, station, resident, station.ladder_type, clock.now())
    lending_jobs.run_due(database, now=loan.due_at)
    with database.write() as session, pytest.raises(OverdueLoanOutstanding):
        reserve(session, station, resident, station.drill_type, loan.due_at)


def test_staff_are_alerted_once_when_a_loan_is_three_days_overdue(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        loan = pick_up(session, station, station.residents[0], station.ladder_type, clock.now())
    lending_jobs.run_due(database, now=loan.due_at)
    lending_jobs.run_due(database, now=loan.due_at + timedelta(days=2, hours=23))
    with database.read() as session:
        assert session.scalar(select(StaffAlert.id)) is None
    lending_jobs.run_due(database, now=loan.due_at + timedelta(days=3))
    lending_jobs.run_due(database, now=loan.due_at + timedelta(days=4))
    with database.read() as session:
        alerts = session.scalars(select(StaffAlert)).all()
        assert [(a.kind, a.severity, a.subject) for a in alerts] == [
            ("loan.overdue", AlertSeverity.WARNING, f"loan:{loan.id}")
        ]


def test_two_overdue_loans_within_90_days_suspend_borrowing_for_30_days(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    staff_now = clock.now()
    with database.write() as session:
        first = pick_up(session, station, resident, station.ladder_type, staff_now)
    lending_jobs.run_due(database, now=first.due_at)
    with database.write() as session:
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=first.id,
                                  condition="fine", now=first.due_at + timedelta(days=1))  # fmt: skip
        second_start = first.due_at + timedelta(days=30)
        second = pick_up(session, station, resident, station.drill_type, second_start)
    lending_jobs.run_due(database, now=second.due_at)
    with database.write() as session:
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=second.id,
                                  condition="fine", now=second.due_at + timedelta(hours=1))  # fmt: skip
    with database.write() as session, pytest.raises(LendingSuspended) as refused:
        reserve(session, station, resident, station.drill_type, second.due_at + timedelta(days=29))
    assert refused.value.details["until"] == second.due_at + timedelta(days=30)
    with database.write() as session:
        reserve(session, station, resident, station.drill_type, second.due_at + timedelta(days=30))


def test_overdue_loans_further_apart_than_90_days_do_not_suspend(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    with database.write() as session:
        first = pick_up(session, station, resident, station.ladder_type, clock.now())
    lending_jobs.run_due(database, now=first.due_at)
    with database.write() as session:
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=first.id,
                                  condition="fine", now=first.due_at + timedelta(days=1))  # fmt: skip
        second = pick_up(session, station, resident, station.drill_type,
                         first.due_at + timedelta(days=88))  # fmt: skip
    lending_jobs.run_due(database, now=second.due_at)
    with database.read() as session:
        assert lending_eligibility.active_suspension(session, site_id=station.site_id, resident_id=resident,
                                         now=second.due_at) is None  # fmt: skip


def test_staff_lend_a_counter_item_with_the_same_records(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        loan = lending.lend_at_counter(session, staff=staff_of(session, station),
                                       item_id=station.cart, resident_id=station.residents[1],
                                       now=clock.now())  # fmt: skip
        assert loan.channel is LoanChannel.COUNTER
        assert loan.lent_by_staff_id == station.staff_id
        assert loan.due_at == clock.now() + timedelta(days=3)
        [event] = lending_history.history_of_item(session, station.cart)
        assert (event.action, event.actor) == (LendingAction.LENT, "staff:lend-staff")


def test_staff_cannot_lend_an_item_already_out(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        lending.lend_at_counter(session, staff=staff_of(session, station), item_id=station.cart,
                                resident_id=station.residents[1], now=clock.now())  # fmt: skip
    with database.write() as session, pytest.raises(ItemUnavailable):
        lending.lend_at_counter(session, staff=staff_of(session, station), item_id=station.cart,
                                resident_id=station.residents[2], now=clock.now())  # fmt: skip


@pytest.mark.parametrize("condition", ["damaged", "parts_missing"])
def test_a_damaged_or_incomplete_return_puts_the_item_in_maintenance_and_alerts_staff(
    database: Database, station: Station, clock: FrozenClock, condition: str
) -> None:
    resident = station.residents[0]
    with database.write() as session:
        loan = pick_up(session, station, resident, station.drill_type, clock.now())
    with database.write() as session:
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=loan.id,
                                  condition=condition, now=clock.now())  # fmt: skip
        item = session.get_one(Item, loan.item_id)
        assert item.status is ItemStatus.MAINTENANCE
        [alert] = session.scalars(select(StaffAlert)).all()
        assert alert.kind == f"lending.{condition}"
        assert alert.resident_id == resident
        # What the console words the summary with, in either language.
        assert alert.params == {
            "tool_zh": "电钻",
            "tool_en": "Electric drill",
            "asset": item.asset_tag,
        }


def test_a_fine_return_leaves_the_item_available(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        loan = lending.lend_at_counter(session, staff=staff_of(session, station),
                                       item_id=station.cart, resident_id=station.residents[1],
                                       now=clock.now())  # fmt: skip
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=loan.id,
                                  condition="fine", now=clock.now())  # fmt: skip
        assert session.get_one(Item, station.cart).status is ItemStatus.AVAILABLE
        assert session.scalar(select(StaffAlert.id)) is None


def test_a_condition_other_than_fine_damaged_or_parts_missing_is_refused(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        loan = lending.lend_at_counter(session, staff=staff_of(session, station),
                                       item_id=station.cart, resident_id=station.residents[1],
                                       now=clock.now())  # fmt: skip
    with database.write() as session, pytest.raises(InvalidCondition):
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=loan.id,
                                  condition="so-so", now=clock.now())  # fmt: skip
    with database.read() as session:
        assert session.get_one(Loan, loan.id).status is LoanStatus.ACTIVE


def test_the_resident_reports_the_condition_once_after_a_locker_return(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    with database.write() as session:
        loan = pick_up(session, station, resident, station.drill_type, clock.now())
        with pytest.raises(WrongLendingState):  # not returned yet
            lending.report_condition(session, site_id=station.site_id, resident_id=resident,
                                     loan_id=loan.id, condition="fine", now=clock.now())  # fmt: skip
        attempt = door_session.begin_return(session, site_id=station.site_id,
                                            resident_id=resident, loan_id=loan.id,
                                            now=clock.now())  # fmt: skip
        door_session.open_requested(session, attempt, command_id=str(uuid.uuid4()),
                                    now=clock.now())  # fmt: skip
        door_session.door_opened(session, attempt, clock.now(), ref(station))
        door_session.item_sensed(session, attempt, True, clock.now(), ref(station))
        door_session.door_closed(session, attempt, clock.now(), ref(station))
        lending.report_condition(session, site_id=station.site_id, resident_id=resident,
                                 loan_id=loan.id, condition="damaged", now=clock.now())  # fmt: skip
        assert session.get_one(Item, loan.item_id).status is ItemStatus.MAINTENANCE
        with pytest.raises(WrongLendingState):
            lending.report_condition(session, site_id=station.site_id, resident_id=resident,
                                     loan_id=loan.id, condition="fine", now=clock.now())  # fmt: skip


def test_every_items_status_is_the_one_its_last_history_event_names(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    now = clock.now()
    with database.write() as session:
        staff = staff_of(session, station)
        kept = pick_up(session, station, station.residents[0], station.drill_type, now)
        late = pick_up(session, station, station.residents[1], station.ladder_type, now)
        released = reserve(session, station, station.residents[2], station.drill_type, now)
        door_session.release(session, released, ReleaseReason.REJECTED, now,
                             actor="system:test")  # fmt: skip
        counter = lending.lend_at_counter(session, staff=staff, item_id=station.cart,
                                          resident_id=station.residents[2], now=now)  # fmt: skip
        lending.return_at_counter(session, staff=staff, loan_id=counter.id,
                                  condition="damaged", now=now)  # fmt: skip
        lending.back_in_service(session, staff=staff, item_id=station.cart, now=now)
        lending.mark_lost(session, staff=staff, loan_id=kept.id, now=now)
    lending_jobs.run_due(database, now=late.due_at + timedelta(days=5))
    with database.read() as session:
        for item in session.scalars(select(Item)):
            history = lending_history.history_of_item(session, item.id)
            if history:
                assert history[-1].item_status is item.status, item.asset_tag
            else:
                assert item.status is ItemStatus.AVAILABLE
        for loan in session.scalars(select(Loan)):
            last = session.scalars(
                select(LendingEvent)
                .where(LendingEvent.loan_id == loan.id)
                .order_by(LendingEvent.at.desc(), LendingEvent.id.desc())
                .limit(1)
            ).one()
            assert last.loan_status is loan.status


def test_two_open_loans_of_one_item_are_refused_by_either_database(
    any_database: Database, clock: FrozenClock
) -> None:
    station = build_station(any_database, clock, slug="both")
    with any_database.write() as session:
        loan = pick_up(session, station, station.residents[0], station.drill_type, clock.now())
    with pytest.raises(sa_exc.IntegrityError), any_database.write() as session:
        session.add(
            Loan(
                site_id=station.site_id,
                item_id=loan.item_id,
                tool_type_id=loan.tool_type_id,
                resident_id=station.residents[1],
                channel=LoanChannel.COUNTER,
                started_at=clock.now(),
                due_at=clock.now(),
            )  # fmt: skip
        )
        session.flush()


def test_two_residents_reserving_the_last_ladder_get_it_once_on_either_database(
    any_database: Database, clock: FrozenClock
) -> None:
    station = build_station(any_database, clock, slug="race")
    with any_database.write() as session:
        reserve(session, station, station.residents[0], station.ladder_type, clock.now())
    with any_database.write() as session, pytest.raises(NoItemAvailable):
        reserve(session, station, station.residents[1], station.ladder_type, clock.now())
    with any_database.read() as session:
        assert len(session.scalars(select(DoorSession)).all()) == 1
