"""Lending's rules hold when many callers act at the same moment, on SQLite and PostgreSQL.

Each race starts its calls together (one barrier) in their own transactions, and is run a few
times over, each time on a fresh station. Every call either succeeds or is refused with a
domain error; what the records say afterwards obeys the rule.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from lending_centre import Station, build_station, staff_of
from simultaneous import OK, REPEATS, all_at_once, refusals_only
from sqlalchemy import func, select

from booking.admin import tools as tools_admin
from booking.alerts.models.alerts import StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import catalogue as lending_catalogue
from booking.lending import door_session
from booking.lending import history as lending_history
from booking.lending import jobs as lending_jobs
from booking.lending import operations as lending
from booking.lending import overdue as lending_overdue
from booking.lending.errors import ItemUnavailable, NoItemAvailable, WrongLendingState
from booking.lending.models.door_sessions import (
    LIVE_DOOR_STATES,
    DoorPurpose,
    DoorSession,
    DoorSessionState,
)
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan, LoanStatus
from booking.lending.models.policies import LendingPolicy
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tools import Item, ItemStatus

SLUGS = itertools.count()


def fresh_station(database: Database, clock: FrozenClock) -> Station:
    return build_station(database, clock, slug=f"race{next(SLUGS)}")


def add_counter_items(database: Database, station: Station, count: int) -> list[int]:
    with database.write() as session:
        items = [
            Item(site_id=station.site_id, tool_type_id=station.cart_type,
                 asset_tag=f"{station.slug}-X{n}")
            for n in range(count)
        ]  # fmt: skip
        session.add_all(items)
        session.flush()
        return [item.id for item in items]


def add_locker_drills(database: Database, station: Station) -> None:
    """Drills in the empty compartments 5-8 too: seven drills in the locker."""
    with database.write() as session:
        session.add_all(
            Item(site_id=station.site_id, tool_type_id=station.drill_type,
                 asset_tag=f"{station.slug}-D{n}", locker_device_id=station.locker,
                 compartment=n)
            for n in (5, 6, 7, 8)
        )  # fmt: skip


def set_policy(database: Database, station: Station, **values: int) -> None:
    with database.write() as session:
        session.add(LendingPolicy(site_id=station.site_id, **values))


# --- what the calls are -----------------------------------------------------------------------


def lend(database: Database, station: Station, clock: FrozenClock, item_id: int,
         resident_id: int) -> Callable[[], object]:  # fmt: skip
    def call() -> object:
        with database.write() as session:
            return lending.lend_at_counter(session, staff=staff_of(session, station),
                                           item_id=item_id, resident_id=resident_id,
                                           now=clock.now())  # fmt: skip

    return call


def reserve(database: Database, station: Station, clock: FrozenClock, tool_type_id: int,
            resident_id: int) -> Callable[[], object]:  # fmt: skip
    def call() -> object:
        with database.write() as session:
            return lending.reserve(session, site_id=station.site_id, resident_id=resident_id,
                                   tool_type_id=tool_type_id, now=clock.now())  # fmt: skip

    return call


def to_maintenance(database: Database, station: Station, clock: FrozenClock,
                   item_id: int) -> Callable[[], object]:  # fmt: skip
    """Staff take the item out of lending, as the services are called: the item read first."""

    def call() -> None:
        with database.write() as session:
            staff = staff_of(session, station)
            item = lending_catalogue.get_item(session, site_id=station.site_id, item_id=item_id)
            lending.send_to_maintenance(session, item=item, actor=lending_history.staff_actor(staff),
                                        now=clock.now(), reason="wobbly chuck")  # fmt: skip

    return call


def edit_to_maintenance(database: Database, station: Station, clock: FrozenClock,
                        item_id: int) -> Callable[[], object]:  # fmt: skip
    """An admin sets the item's status to "in maintenance" in the item form."""

    def call() -> None:
        with database.write() as session:
            item = session.get_one(Item, item_id)
            tools_admin.save_item(session, staff_of(session, station), item_id,
                                   tool_type_id=item.tool_type_id, asset_tag=item.asset_tag,
                                   locker=None, compartment=None,
                                   status=ItemStatus.MAINTENANCE, now=clock.now())  # fmt: skip

    return call


# --- the resident's limit ---------------------------------------------------------------------


def test_one_resident_starting_sixteen_pickups_and_counter_loans_at_once_gets_the_limit(
    any_database: Database, clock: FrozenClock
) -> None:
    for _ in range(REPEATS):
        station = fresh_station(any_database, clock)
        add_locker_drills(any_database, station)
        carts = add_counter_items(any_database, station, 8)
        resident = station.residents[0]
        outcomes = all_at_once(
            [reserve(any_database, station, clock, station.drill_type, resident)] * 8
            + [lend(any_database, station, clock, cart, resident) for cart in carts]
        )
        refusals_only(outcomes, "loan_limit_reached")
        assert outcomes.count(OK) == 3
        with any_database.read() as session:
            loans = session.scalar(
                select(func.count()).select_from(Loan).where(Loan.resident_id == resident)
            )
            pickups = session.scalar(
                select(func.count())
                .select_from(DoorSession)
                .where(
                    DoorSession.resident_id == resident,
                    DoorSession.purpose == DoorPurpose.PICKUP,
                    DoorSession.state.in_(LIVE_DOOR_STATES),
                )
            )
            assert loans + pickups == 3


# --- an item in maintenance is never out ------------------------------------------------------


def assert_never_out_while_in_maintenance(database: Database, item_id: int) -> None:
    """The item is in maintenance with nothing live on it, or lent (or held) exactly once."""
    with database.read() as session:
        item = session.get_one(Item, item_id)
        loans = session.scalars(
            select(Loan).where(Loan.item_id == item_id, Loan.status.in_(OPEN_LOAN_STATUSES))
        ).all()
        pickups = session.scalars(
            select(DoorSession).where(
                DoorSession.item_id == item_id, DoorSession.state.in_(LIVE_DOOR_STATES)
            )
        ).all()
        if item.status is ItemStatus.MAINTENANCE:
            assert (loans, pickups) == ([], [])
        elif item.status is ItemStatus.ON_LOAN:
            assert (len(loans), pickups) == (1, [])
        else:
            assert item.status is ItemStatus.RESERVED
            assert (loans, len(pickups)) == ([], 1)


@pytest.mark.parametrize("maintenance", [to_maintenance, edit_to_maintenance])
def test_an_item_sent_to_maintenance_while_it_is_lent_ends_either_lent_or_in_maintenance(
    any_database: Database, clock: FrozenClock, maintenance: Callable[..., Callable[[], object]]
) -> None:
    for _ in range(REPEATS):
        station = fresh_station(any_database, clock)
        outcomes = all_at_once(
            [lend(any_database, station, clock, station.cart, r) for r in station.residents * 2]
            + [maintenance(any_database, station, clock, station.cart)] * 6
        )
        refusals_only(outcomes, "item_unavailable", "conflict", "wrong_lending_state")
        assert_never_out_while_in_maintenance(any_database, station.cart)
        # Whatever won, staff can put the cart back and lend it again without a 500.
        with any_database.write() as session:
            staff = staff_of(session, station)
            cart = session.get_one(Item, station.cart)
            if cart.status is ItemStatus.MAINTENANCE:
                lending.back_in_service(session, staff=staff, item_id=cart.id, now=clock.now())
                lending.lend_at_counter(session, staff=staff, item_id=cart.id,
                                        resident_id=station.residents[0], now=clock.now())  # fmt: skip


def test_an_item_sent_to_maintenance_while_it_is_reserved_keeps_no_live_pickup(
    any_database: Database, clock: FrozenClock
) -> None:
    for _ in range(REPEATS):
        station = fresh_station(any_database, clock)
        outcomes = all_at_once(
            [
                reserve(any_database, station, clock, station.ladder_type, r)
                for r in station.residents * 2
            ]
            + [to_maintenance(any_database, station, clock, station.ladder)] * 6
        )
        refusals_only(outcomes, "no_item_available", "wrong_lending_state")
        assert_never_out_while_in_maintenance(any_database, station.ladder)


def test_sending_an_item_to_maintenance_while_its_compartment_opens_for_a_pickup_is_refused(
    any_database: Database, clock: FrozenClock
) -> None:
    station = fresh_station(any_database, clock)
    with any_database.write() as session:
        reservation = lending.reserve(session, site_id=station.site_id,
                                      resident_id=station.residents[0],
                                      tool_type_id=station.ladder_type, now=clock.now())  # fmt: skip
        door_session.open_requested(session, reservation, command_id="c-1", now=clock.now())
    refused = all_at_once([to_maintenance(any_database, station, clock, station.ladder)])
    assert refused == ["wrong_lending_state"]
    assert_never_out_while_in_maintenance(any_database, station.ladder)


# --- a unique index's refusal is a domain refusal ----------------------------------------------


def test_a_counter_loan_of_an_item_whose_old_loan_is_still_open_is_refused_cleanly(
    any_database: Database, clock: FrozenClock
) -> None:
    """Records left by the old race (an item back in service with its loan still open) give
    a refusal, not the unique index's error, and the caller's transaction goes on."""
    station = fresh_station(any_database, clock)
    lend(any_database, station, clock, station.cart, station.residents[0])()
    with any_database.write() as session:
        session.get_one(Item, station.cart).status = ItemStatus.AVAILABLE
    with any_database.write() as session:
        staff = staff_of(session, station)
        with pytest.raises(ItemUnavailable):
            lending.lend_at_counter(session, staff=staff, item_id=station.cart,
                                    resident_id=station.residents[1], now=clock.now())  # fmt: skip
        # A handler that shows the refusal in the same transaction still commits it.
        assert session.get_one(Item, station.cart).status is ItemStatus.AVAILABLE
    with any_database.read() as session:
        assert len(session.scalars(select(Loan).where(Loan.item_id == station.cart)).all()) == 1


def test_a_pickup_of_an_item_with_a_live_pickup_left_over_is_refused_cleanly(
    any_database: Database, clock: FrozenClock
) -> None:
    station = fresh_station(any_database, clock)
    reserve(any_database, station, clock, station.ladder_type, station.residents[0])()
    with any_database.write() as session:
        session.get_one(Item, station.ladder).status = ItemStatus.AVAILABLE
    # As the kiosk does: the refusal is caught inside the transaction, which then commits.
    with any_database.write() as session:
        with pytest.raises(NoItemAvailable):
            lending.reserve(session, site_id=station.site_id, resident_id=station.residents[1],
                            tool_type_id=station.ladder_type, now=clock.now())  # fmt: skip
        assert session.get_one(Item, station.ladder).status is ItemStatus.AVAILABLE
    with any_database.read() as session:
        assert len(session.scalars(select(DoorSession)).all()) == 1


def test_an_item_still_on_loan_is_not_put_back_in_service(
    any_database: Database, clock: FrozenClock
) -> None:
    station = fresh_station(any_database, clock)
    lend(any_database, station, clock, station.cart, station.residents[0])()
    with any_database.write() as session:
        session.get_one(Item, station.cart).status = ItemStatus.MAINTENANCE
    with pytest.raises(WrongLendingState), any_database.write() as session:
        lending.back_in_service(session, staff=staff_of(session, station), item_id=station.cart,
                                now=clock.now())  # fmt: skip


# --- overdue, escalation, loss, suspensions ---------------------------------------------------


def overdue_loans(database: Database, clock: FrozenClock, count: int) -> tuple[Station, list[int]]:
    """A station whose first resident has ``count`` counter loans, all past due."""
    station = fresh_station(database, clock)
    set_policy(database, station, max_items_on_loan=count, overdue_strikes=2)
    carts = add_counter_items(database, station, count)
    with database.write() as session:
        staff = staff_of(session, station)
        loans = [
            lending.lend_at_counter(session, staff=staff, item_id=cart,
                                    resident_id=station.residents[0],
                                    now=clock.now() - timedelta(days=10)).id
            for cart in carts
        ]  # fmt: skip
    return station, loans


def test_loans_of_one_resident_going_overdue_at_once_suspend_once_per_two(
    any_database: Database, clock: FrozenClock
) -> None:
    """Two overdue loans suspend borrowing; eight marked at once make four suspensions, each
    counting two loans, and no loan counted twice."""
    for _ in range(REPEATS):
        station, loans = overdue_loans(any_database, clock, 8)

        def mark(loan_id: int) -> Callable[[], object]:
            def call() -> object:
                with any_database.write() as session:
                    return lending_jobs.mark_overdue(session, loan_id, clock.now())

            return call

        outcomes = all_at_once([mark(loan) for loan in loans])
        refusals_only(outcomes)
        with any_database.read() as session:
            suspensions = session.scalars(
                select(LendingSuspension).where(LendingSuspension.site_id == station.site_id)
            ).all()
            assert len(suspensions) == 4
            counted = session.scalars(select(Loan.suspension_id).where(Loan.id.in_(loans))).all()
            assert sorted(counted) == sorted(s.id for s in suspensions for _ in range(2))


def escalate(database: Database, clock: FrozenClock, loan_id: int) -> Callable[[], object]:
    """The scheduler's escalation job for the loan."""

    def call() -> object:
        with database.write() as session:
            return lending_jobs.escalate_overdue(session, loan_id, clock.now())

    return call


def mark_lost(database: Database, station: Station, clock: FrozenClock,
              loan_id: int) -> Callable[[], object]:  # fmt: skip
    def call() -> object:
        with database.write() as session:
            return lending.mark_lost(session, staff=staff_of(session, station), loan_id=loan_id,
                                     now=clock.now())  # fmt: skip

    return call


def test_an_overdue_loan_escalated_and_marked_lost_at_once_is_lost_and_escalated_at_most_once(
    any_database: Database, clock: FrozenClock
) -> None:
    for _ in range(REPEATS):
        station, (loan_id,) = overdue_loans(any_database, clock, 1)
        with any_database.write() as session:
            lending_jobs.mark_overdue(session, loan_id, clock.now())

        outcomes = all_at_once(
            [escalate(any_database, clock, loan_id)] * 6
            + [mark_lost(any_database, station, clock, loan_id)] * 6
        )
        refusals_only(outcomes, "wrong_lending_state")
        assert outcomes[6:].count(OK) == 1
        with any_database.read() as session:
            assert session.get_one(Loan, loan_id).status is LoanStatus.LOST
            assert session.get_one(Item, session.get_one(Loan, loan_id).item_id).status is (
                ItemStatus.LOST
            )
            actions = session.scalars(
                select(LendingEvent.action).where(LendingEvent.loan_id == loan_id)
            ).all()
            assert actions.count(LendingAction.MARKED_LOST) == 1
            assert actions.count(LendingAction.OVERDUE_ESCALATED) <= 1
            alerts = session.scalar(
                select(func.count())
                .select_from(StaffAlert)
                .where(StaffAlert.subject == f"loan:{loan_id}")
            )
            assert alerts == actions.count(LendingAction.OVERDUE_ESCALATED)


def test_staff_lifting_one_lending_suspension_at_once_lift_it_once(
    any_database: Database, clock: FrozenClock
) -> None:
    station, loans = overdue_loans(any_database, clock, 2)
    for loan in loans:
        with any_database.write() as session:
            lending_jobs.mark_overdue(session, loan, clock.now())
    with any_database.read() as session:
        suspension_id = session.scalars(select(LendingSuspension.id)).one()

    def lift(n: int) -> Callable[[], object]:
        def call() -> object:
            with any_database.write() as session:
                return lending_overdue.lift_suspension(session, staff=staff_of(session, station),
                                               suspension_id=suspension_id, now=clock.now(),
                                               reason=f"lifted by desk {n}")  # fmt: skip

        return call

    outcomes = all_at_once([lift(n) for n in range(8)])
    refusals_only(outcomes, "wrong_lending_state")
    assert outcomes.count(OK) == 1
    with any_database.read() as session:
        suspension = session.get_one(LendingSuspension, suspension_id)
        assert suspension.lift_reason == f"lifted by desk {outcomes.index(OK)}"


def test_the_reservation_of_a_pickup_released_by_maintenance_is_released_not_opened(
    any_database: Database, clock: FrozenClock
) -> None:
    station = fresh_station(any_database, clock)
    reserve(any_database, station, clock, station.ladder_type, station.residents[0])()
    to_maintenance(any_database, station, clock, station.ladder)()
    with any_database.read() as session:
        (state,) = session.scalars(select(DoorSession.state)).all()
        assert state is DoorSessionState.RELEASED
        assert session.get_one(Item, station.ladder).status is ItemStatus.MAINTENANCE


# --- the interleaving a lock prevents, step by step (PostgreSQL: SQLite lets no writer in) ---


def test_a_maintenance_step_that_read_the_item_before_it_was_lent_is_refused(
    postgres_database: Database, clock: FrozenClock
) -> None:
    station = fresh_station(postgres_database, clock)
    with postgres_database.write() as session:
        staff = staff_of(session, station)
        cart = lending_catalogue.get_item(session, site_id=station.site_id, item_id=station.cart)
        assert cart.status is ItemStatus.AVAILABLE
        # Meanwhile, at the counter, the cart is lent.
        lend(postgres_database, station, clock, station.cart, station.residents[0])()
        with pytest.raises(WrongLendingState):
            lending.send_to_maintenance(session, item=cart, actor=lending_history.staff_actor(staff),
                                        now=clock.now(), reason="wobbly wheel")  # fmt: skip
    assert_never_out_while_in_maintenance(postgres_database, station.cart)


def test_a_maintenance_step_that_read_the_item_before_it_was_reserved_releases_the_pickup(
    postgres_database: Database, clock: FrozenClock
) -> None:
    station = fresh_station(postgres_database, clock)
    with postgres_database.write() as session:
        staff = staff_of(session, station)
        ladder = lending_catalogue.get_item(
            session, site_id=station.site_id, item_id=station.ladder
        )
        reserve(postgres_database, station, clock, station.ladder_type, station.residents[0])()
        lending.send_to_maintenance(session, item=ladder, actor=lending_history.staff_actor(staff),
                                    now=clock.now(), reason="loose rung")  # fmt: skip
    assert_never_out_while_in_maintenance(postgres_database, station.ladder)
    with postgres_database.read() as session:
        assert session.get_one(Item, station.ladder).status is ItemStatus.MAINTENANCE
