"""Tools ahead of time, on the domain services and jobs alone, on both databases: a window
reserved and held at its start, the queue served in order when a tool comes back, no-shows
counted by the policy's rule, and renewals within the policy's limit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from lending_centre import Station, build_station, staff_of
from messages_phone import outbox_rows
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.alerts.models.notifications import Notification, NotificationKind
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.lending import door_session, renewals, reservations
from booking.lending import jobs as lending_jobs
from booking.lending import lookups as lending_lookups
from booking.lending import operations as lending
from booking.lending.errors import (
    AlreadyReserved,
    ItemFreeNow,
    NoItemAvailable,
    OthersWaiting,
    RenewalLimitReached,
    ReservationWindowInvalid,
    ToolFullyReserved,
    WrongLendingState,
)
from booking.lending.history import DeviceRef
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan
from booking.lending.models.policies import LendingPolicy
from booking.lending.models.reservations import ReservationStatus, ToolReservation
from booking.lending.models.tools import Item, ItemStatus
from booking.messages.notices import local_text
from booking.messages.templates import render
from booking.people.resident_record import resident_record
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension

SEQ = iter(range(1, 10**6))


@pytest.fixture
def station(any_database: Database, clock: FrozenClock) -> Station:
    return build_station(any_database, clock)


@pytest.fixture
def database(any_database: Database) -> Database:
    return any_database


def lend_ladder_at_counter(
    database: Database, station: Station, resident: int, now: datetime
) -> int:
    with database.write() as session:
        return lending.lend_at_counter(
            session, staff=staff_of(session, station), item_id=station.ladder,
            resident_id=resident, now=now,
        ).id  # fmt: skip


def queue(database: Database, station: Station, resident: int, now: datetime) -> int:
    with database.write() as session:
        return reservations.join_queue(
            session, site_id=station.site_id, resident_id=resident,
            tool_type_id=station.ladder_type, now=now,
        ).id  # fmt: skip


def held_door(session: Session, reservation_id: int) -> DoorSession:
    reservation = session.get_one(ToolReservation, reservation_id)
    assert reservation.status is ReservationStatus.HELD and reservation.door_session_id
    return session.get_one(DoorSession, reservation.door_session_id)


def notices(session: Session, resident: int, kind: NotificationKind) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(
                Notification.resident_id == resident, Notification.kind == kind
            )
        )
    )


def reserve_window(
    database: Database, station: Station, resident: int, starts_at: datetime, hours: int = 2
) -> int:
    with database.write() as session:
        return reservations.reserve(
            session, site_id=station.site_id, resident_id=resident,
            tool_type_id=station.ladder_type, starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours), now=starts_at - timedelta(days=1),
        ).id  # fmt: skip


# --- the queue ------------------------------------------------------------------------------


def test_two_residents_wait_and_the_ladder_returned_at_the_counter_goes_to_the_first(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    borrower, first, second = station.residents
    lend_ladder_at_counter(database, station, borrower, clock.now())
    clock.advance(timedelta(minutes=5))
    first_place = queue(database, station, first, clock.now())
    clock.advance(timedelta(minutes=5))
    second_place = queue(database, station, second, clock.now())
    with database.read() as session:
        places = {
            view.reservation.resident_id: view.position
            for view in reservations.reservations_by_type(
                session,
                site_id=station.site_id,
                tool_types=lending_lookups.tool_types(session, site_id=station.site_id),
            )[station.ladder_type]
        }
    assert places == {first: 1, second: 2}

    clock.advance(timedelta(hours=3))
    with database.write() as session:
        loan = session.scalars(select(Loan).where(Loan.item_id == station.ladder)).one()
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=loan.id,
                                  condition="fine", now=clock.now())  # fmt: skip

    with database.read() as session:
        door = held_door(session, first_place)
        assert door.item_id == station.ladder and door.state is DoorSessionState.RESERVED
        assert door.expires_at == clock.now() + timedelta(hours=2)
        assert session.get_one(Item, station.ladder).status is ItemStatus.RESERVED
        (ready,) = notices(session, first, NotificationKind.TOOL_QUEUE_READY)
        assert ready.detail.splitlines()[:2] == ["折叠梯", "Folding ladder"]
        assert notices(session, second, NotificationKind.TOOL_QUEUE_READY) == []
        # The same news goes to the first one's phone, with when the hold ends.
        assert door.expires_at is not None
        until = local_text(door.expires_at, session.get_one(Site, station.site_id))
        (still,) = reservations.my_reservations(
            session, site_id=station.site_id, resident_id=second
        )
        assert still.reservation.id == second_place and still.position == 1
    [sms] = outbox_rows(database, "tool_queue_ready")
    assert sms.resident_id == first
    assert render(sms.kind, sms.language, sms.params) == (
        f"【邻里】您排队等候的折叠梯已归还，为您保留到{until}，请到中心自助机取用。"
    )


def test_the_ladder_put_back_in_its_locker_goes_to_the_first_in_the_queue(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    borrower, first, second = station.residents
    ref = DeviceRef(station.locker, 1, 1)
    with database.write() as session:
        pickup = lending.reserve(session, site_id=station.site_id, resident_id=borrower,
                                 tool_type_id=station.ladder_type, now=clock.now())  # fmt: skip
        door_session.open_requested(session, pickup, command_id=str(uuid.uuid4()), now=clock.now())
        door_session.unlocked(session, pickup, clock.now())
        door_session.door_opened(session, pickup, clock.now(), ref)
        door_session.item_sensed(session, pickup, False, clock.now(), ref)
        door_session.door_closed(session, pickup, clock.now(), ref)
        loan_id = pickup.loan_id
    assert loan_id is not None
    first_place = queue(database, station, first, clock.now())
    queue(database, station, second, clock.now() + timedelta(seconds=1))
    clock.advance(timedelta(days=1))
    with database.write() as session:
        back = door_session.begin_return(session, site_id=station.site_id, resident_id=borrower,
                                         loan_id=loan_id, now=clock.now())  # fmt: skip
        door_session.open_requested(session, back, command_id=str(uuid.uuid4()), now=clock.now())
        door_session.door_opened(session, back, clock.now(), ref)
        door_session.item_sensed(session, back, True, clock.now(), ref)
        door_session.door_closed(session, back, clock.now(), ref)
    with database.read() as session:
        assert held_door(session, first_place).resident_id == first


def test_the_queue_is_only_for_when_none_is_free(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with pytest.raises(ItemFreeNow), database.write() as session:
        reservations.join_queue(session, site_id=station.site_id, resident_id=station.residents[0],
                                tool_type_id=station.ladder_type, now=clock.now())  # fmt: skip


def test_a_resident_queues_once_per_tool(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    lend_ladder_at_counter(database, station, station.residents[0], clock.now())
    queue(database, station, station.residents[1], clock.now())
    with pytest.raises(AlreadyReserved):
        queue(database, station, station.residents[1], clock.now())


def test_while_others_queue_a_free_ladder_is_not_taken_by_a_walk_up_pickup(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    """The ladder released by a no-show belongs to the next in the queue, not to whoever
    taps it first at the kiosk before the job runs."""
    borrower, first, _ = station.residents
    lend_ladder_at_counter(database, station, borrower, clock.now())
    queue(database, station, first, clock.now())
    with database.write() as session:
        loan = session.scalars(select(Loan).where(Loan.item_id == station.ladder)).one()
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=loan.id,
                                  condition="fine", now=clock.now())  # fmt: skip
    with pytest.raises(NoItemAvailable), database.write() as session:
        lending.reserve(session, site_id=station.site_id, resident_id=borrower,
                        tool_type_id=station.ladder_type, now=clock.now())  # fmt: skip


def test_cancelling_a_held_place_releases_the_ladder_to_the_next(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    borrower, first, second = station.residents
    loan_id = lend_ladder_at_counter(database, station, borrower, clock.now())
    first_place = queue(database, station, first, clock.now())
    second_place = queue(database, station, second, clock.now() + timedelta(seconds=1))
    with database.write() as session:
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=loan_id,
                                  condition="fine", now=clock.now())  # fmt: skip
    with database.write() as session:
        reservations.cancel_reservation(session, site_id=station.site_id,
                                        reservation_id=first_place, resident_id=first,
                                        now=clock.now())  # fmt: skip
    with database.read() as session:
        assert session.get_one(ToolReservation, first_place).status is ReservationStatus.CANCELLED
        assert held_door(session, second_place).item_id == station.ladder


def test_nobody_cancels_another_residents_place(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    from booking.lending.errors import ReservationNotFound

    lend_ladder_at_counter(database, station, station.residents[0], clock.now())
    place = queue(database, station, station.residents[1], clock.now())
    with pytest.raises(ReservationNotFound), database.write() as session:
        reservations.cancel_reservation(session, site_id=station.site_id, reservation_id=place,
                                        resident_id=station.residents[2], now=clock.now())  # fmt: skip


# --- windows ahead ----------------------------------------------------------------------------


def test_a_window_reservation_is_held_from_the_windows_start_for_the_policys_hold(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    starts_at = clock.now() + timedelta(days=1)
    with database.write() as session:
        reserved = reservations.reserve(
            session, site_id=station.site_id, resident_id=resident,
            tool_type_id=station.ladder_type, starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=3), now=clock.now(),
        ).id  # fmt: skip
    clock.set(starts_at - timedelta(minutes=1))
    lending_jobs.run_due(database, now=clock.now())
    with database.read() as session:
        assert session.get_one(ToolReservation, reserved).status is ReservationStatus.WAITING
    clock.set(starts_at)
    lending_jobs.run_due(database, now=clock.now())
    with database.read() as session:
        door = held_door(session, reserved)
        assert door.item_id == station.ladder
        assert door.expires_at == starts_at + timedelta(hours=2)
        assert len(notices(session, resident, NotificationKind.TOOL_RESERVATION_READY)) == 1


@pytest.mark.parametrize(
    ("starts_in", "hours", "reason"),
    [
        (timedelta(hours=-1), 2, "past"),
        (timedelta(hours=1), 0, "order"),
        (timedelta(hours=1), 13, "too_long"),
        (timedelta(days=15), 2, "too_far"),
        # The suite's clock is 09:30 in Shanghai, the station open 08:00–21:00.
        (timedelta(hours=18), 1, "closed"),  # 03:30 the next night
        (timedelta(hours=11), 2, "closed"),  # 20:30 until after closing
    ],
)
def test_a_window_must_be_ahead_short_within_two_weeks_and_the_opening_hours(
    database: Database, station: Station, clock: FrozenClock, starts_in: timedelta, hours: int,
    reason: str,
) -> None:  # fmt: skip
    starts_at = clock.now() + starts_in
    with pytest.raises(ReservationWindowInvalid) as refused, database.write() as session:
        reservations.reserve(
            session, site_id=station.site_id, resident_id=station.residents[0],
            tool_type_id=station.ladder_type, starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours), now=clock.now(),
        )  # fmt: skip
    assert refused.value.details["reason"] == reason


def test_the_one_ladder_is_reserved_once_for_a_window_and_again_for_a_later_one(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    """The ladder is lent for two days: a window within two days of another needs a second."""
    tomorrow = clock.now() + timedelta(days=1)
    reserve_window(database, station, station.residents[0], tomorrow)
    with pytest.raises(ToolFullyReserved):
        reserve_window(database, station, station.residents[1], tomorrow + timedelta(days=1))
    reserve_window(database, station, station.residents[1], tomorrow + timedelta(days=3))


def test_a_loan_still_out_at_the_window_leaves_nothing_to_reserve(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    lend_ladder_at_counter(database, station, station.residents[0], clock.now())  # due in 2 days
    with pytest.raises(ToolFullyReserved):
        reserve_window(database, station, station.residents[1], clock.now() + timedelta(days=1))
    reserve_window(database, station, station.residents[1], clock.now() + timedelta(days=3))


# --- no-shows ---------------------------------------------------------------------------------


def _held_then_expired(
    database: Database, station: Station, clock: FrozenClock, resident: int
) -> int:
    starts_at = clock.now() + timedelta(hours=1)
    with database.write() as session:
        reserved = reservations.reserve(
            session, site_id=station.site_id, resident_id=resident,
            tool_type_id=station.ladder_type, starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=2), now=clock.now(),
        ).id  # fmt: skip
    clock.set(starts_at)
    lending_jobs.run_due(database, now=clock.now())
    clock.advance(timedelta(hours=2, minutes=1))
    lending_jobs.run_due(database, now=clock.now())  # the hold runs out
    lending_jobs.run_due(database, now=clock.now())  # and the reservation is settled
    return reserved


def test_a_hold_nobody_collected_is_a_no_show_with_a_strike_like_a_seats(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    reserved = _held_then_expired(database, station, clock, resident)
    with database.read() as session:
        assert session.get_one(ToolReservation, reserved).status is ReservationStatus.NO_SHOW
        door = session.scalars(select(DoorSession)).one()
        assert door.release_reason is ReleaseReason.HOLD_EXPIRED
        strike = session.scalars(select(NoShowStrike)).one()
        assert (strike.resident_id, strike.tool_reservation_id) == (resident, reserved)
        assert len(notices(session, resident, NotificationKind.TOOL_NO_SHOW)) == 1
        [sms] = outbox_rows(database, "tool_no_show")
        assert render(sms.kind, sms.language, sms.params) == (
            "【邻里】为您保留的折叠梯未被取用，保留已结束。"
        )
        assert session.get_one(Item, station.ladder).status is ItemStatus.AVAILABLE
        # Staff find it on the resident's record beside the seat no-shows, naming the tool.
        record = resident_record(
            session, site_id=station.site_id, resident_id=resident, now=clock.now()
        )
        [line] = record.strikes
        assert (line.strike.id, line.booking, line.tool.id) == (  # type: ignore[union-attr]
            strike.id, None, station.ladder_type,
        )  # fmt: skip
        assert line.missed_at == session.get_one(ToolReservation, reserved).held_at


def test_three_tool_no_shows_suspend_seat_booking_as_three_seat_no_shows_do(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    for _ in range(3):
        _held_then_expired(database, station, clock, station.residents[0])
    with database.read() as session:
        suspension = session.scalars(select(BookingSuspension)).one()
        assert suspension.resident_id == station.residents[0]
        assert suspension.ends_at == suspension.starts_at + timedelta(days=7)
        assert len(session.scalars(select(NoShowStrike)).all()) == 3


def test_when_staffs_rule_says_so_a_no_show_is_recorded_without_a_strike(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        session.add(LendingPolicy(site_id=station.site_id, no_show_strikes=False))
    reserved = _held_then_expired(database, station, clock, station.residents[0])
    with database.read() as session:
        assert session.get_one(ToolReservation, reserved).status is ReservationStatus.NO_SHOW
        assert session.scalars(select(NoShowStrike)).all() == []
        assert len(notices(session, station.residents[0], NotificationKind.TOOL_NO_SHOW)) == 1


def test_a_hold_collected_at_the_locker_ends_the_reservation_with_its_loan(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    starts_at = clock.now() + timedelta(hours=1)
    reserved = reserve_window(database, station, resident, starts_at)
    clock.set(starts_at)
    lending_jobs.run_due(database, now=clock.now())
    ref = DeviceRef(station.locker, 1, 7)
    with database.write() as session:
        door = held_door(session, reserved)
        door_session.open_requested(session, door, command_id=str(uuid.uuid4()), now=clock.now())
        door_session.unlocked(session, door, clock.now())
        door_session.door_opened(session, door, clock.now(), ref)
        door_session.item_sensed(session, door, False, clock.now(), ref)
        door_session.door_closed(session, door, clock.now(), ref)
    lending_jobs.run_due(database, now=clock.now())
    with database.read() as session:
        reservation = session.get_one(ToolReservation, reserved)
        assert reservation.status is ReservationStatus.COLLECTED
        assert session.get_one(Loan, reservation.loan_id).resident_id == resident
        assert session.scalars(select(NoShowStrike)).all() == []


# --- renewals ---------------------------------------------------------------------------------


def test_a_renewal_moves_the_due_date_by_the_loan_period_and_the_history_says_so(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    resident = station.residents[0]
    loan_id = lend_ladder_at_counter(database, station, resident, clock.now())
    clock.advance(timedelta(days=1))
    with database.write() as session:
        loan = renewals.renew_loan(session, site_id=station.site_id, loan_id=loan_id,
                                   resident_id=resident, now=clock.now())  # fmt: skip
        due = loan.due_at
    with database.read() as session:
        assert due == clock.now() - timedelta(days=1) + timedelta(days=4)
        event = session.scalars(
            select(LendingEvent).where(LendingEvent.action == LendingAction.RENEWED)
        ).one()
        assert event.loan_id == loan_id and event.actor == f"resident:{resident}"
        assert datetime.fromisoformat(event.detail["due_after"]) == due
        assert datetime.fromisoformat(event.detail["due_before"]) == due - timedelta(days=2)


def test_a_loan_is_renewed_up_to_the_policys_limit(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    with database.write() as session:
        session.add(LendingPolicy(site_id=station.site_id, max_renewals=2))
    loan_id = lend_ladder_at_counter(database, station, station.residents[0], clock.now())
    for _ in range(2):
        with database.write() as session:
            renewals.renew_loan(session, site_id=station.site_id, loan_id=loan_id,
                                staff=staff_of(session, station), now=clock.now())  # fmt: skip
    with pytest.raises(RenewalLimitReached) as refused, database.write() as session:
        renewals.renew_loan(session, site_id=station.site_id, loan_id=loan_id,
                            staff=staff_of(session, station), now=clock.now())  # fmt: skip
    assert refused.value.details["limit"] == 2
    with database.read() as session:
        assert session.get_one(Loan, loan_id).due_at == clock.now() + timedelta(days=6)


def test_a_loan_is_not_renewed_while_someone_queues_for_the_tool(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    borrower, waiting, _ = station.residents
    loan_id = lend_ladder_at_counter(database, station, borrower, clock.now())
    queue(database, station, waiting, clock.now())
    with pytest.raises(OthersWaiting), database.write() as session:
        renewals.renew_loan(session, site_id=station.site_id, loan_id=loan_id,
                            resident_id=borrower, now=clock.now())  # fmt: skip
    with database.read() as session:
        loan = session.get_one(Loan, loan_id)
        assert (loan.due_at, loan.renewals) == (clock.now() + timedelta(days=2), 0)


def test_a_loan_is_not_renewed_over_a_window_another_resident_reserved_the_only_item_for(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    borrower, other, _ = station.residents
    loan_id = lend_ladder_at_counter(database, station, borrower, clock.now())  # due in 2 days
    reserve_window(database, station, other, clock.now() + timedelta(days=3))
    with pytest.raises(OthersWaiting), database.write() as session:
        renewals.renew_loan(session, site_id=station.site_id, loan_id=loan_id,
                            resident_id=borrower, now=clock.now())  # fmt: skip
    with database.read() as session:
        loan = session.get_one(Loan, loan_id)
        assert (loan.due_at, loan.renewals) == (clock.now() + timedelta(days=2), 0)


def test_a_window_after_the_renewed_due_date_does_not_stop_the_renewal(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    borrower, other, _ = station.residents
    loan_id = lend_ladder_at_counter(database, station, borrower, clock.now())
    reserve_window(database, station, other, clock.now() + timedelta(days=5))
    with database.write() as session:
        loan = renewals.renew_loan(session, site_id=station.site_id, loan_id=loan_id,
                                   resident_id=borrower, now=clock.now())  # fmt: skip
        assert loan.due_at == clock.now() + timedelta(days=4)


def test_an_overdue_loan_is_not_renewed_but_returned(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_ladder_at_counter(database, station, station.residents[0], clock.now())
    clock.advance(timedelta(days=3))
    lending_jobs.run_due(database, now=clock.now())
    with pytest.raises(WrongLendingState), database.write() as session:
        renewals.renew_loan(session, site_id=station.site_id, loan_id=loan_id,
                            resident_id=station.residents[0], now=clock.now())  # fmt: skip
