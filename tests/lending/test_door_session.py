"""The locker door session on both databases: one door cycle at a time, one live pickup and
one live return per tool, and a late "item removed" that still makes its loan (the locker's
part is played by calling what its events call)."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from lending_centre import Station, build_station, report_locker
from sqlalchemy import exc as sa_exc
from sqlalchemy import select, update

from booking.alerts.models.alerts import StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import door_lookup, door_session
from booking.lending.errors import WrongLendingState
from booking.lending.history import DeviceRef
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.loans import Loan
from booking.lending.models.tools import Item, ItemStatus
from devices.locker import events as lending_events
from devices.locker import opening as lending_locker
from devices.models.compartments import Compartment, DoorState, LockState
from devices.models.device import Device
from devices.protocol.messages import Event

SEQ = count(1)


@pytest.fixture
def station(any_database: Database, clock: FrozenClock) -> Station:
    built = build_station(any_database, clock, slug="door")
    report_locker(any_database, built, clock)
    return built


def ref(station: Station) -> DeviceRef:
    return DeviceRef(station.locker, 1, next(SEQ))


def compartment_1(database: Database, station: Station, *, door: DoorState, lock: LockState
                  ) -> None:  # fmt: skip
    """What the locker last reported of compartment 1 (as the registry records it): the drill
    is out."""
    with database.write() as session:
        session.execute(
            update(Compartment)
            .where(Compartment.device_id == station.locker, Compartment.n == 1)
            .values(door=door, lock=lock, item_present=False)
        )


def take_the_drill(database: Database, station: Station, clock: FrozenClock) -> DoorSession:
    """A pickup of the drill in compartment 1 whose tool has just left; the door is open."""
    with database.write() as session:
        pickup = lending_locker.start_pickup(
            session, site_id=station.site_id, resident_id=station.residents[0],
            tool_type_id=station.drill_type, now=clock.now(),
        )  # fmt: skip
        door_session.unlocked(session, pickup, clock.now())
        door_session.door_opened(session, pickup, clock.now(), ref(station))
        door_session.item_sensed(session, pickup, False, clock.now(), ref(station))
        session.flush()
        session.expunge(pickup)
    compartment_1(database, station, door=DoorState.OPEN, lock=LockState.OPEN)
    return pickup


def hand_back(database: Database, station: Station, loan_id: int, clock: FrozenClock) -> int:
    """The resident returns the drill at once; the return's id."""
    with database.write() as session:
        return lending_locker.start_return(
            session, site_id=station.site_id, resident_id=station.residents[0], loan_id=loan_id,
            now=clock.now(),
        ).id  # fmt: skip


def carry_on(database: Database, door_id: int, clock: FrozenClock) -> DoorSession:
    """One poll of the waiting screen."""
    with database.write() as session:
        door = door_lookup.get(session, door_session_id=door_id)
        lending_locker.carry_on(session, door, clock.now())
        session.flush()
        session.expunge(door)
        return door


def test_a_return_into_a_compartment_still_closing_waits_and_opens_once_it_relocked(
    any_database: Database, station: Station, clock: FrozenClock
) -> None:
    pickup = take_the_drill(any_database, station, clock)
    assert pickup.loan_id is not None
    back_id = hand_back(any_database, station, pickup.loan_id, clock)
    waiting = carry_on(any_database, back_id, clock)
    assert waiting.state is DoorSessionState.WAITING and waiting.command_id is None
    with any_database.write() as session:
        door = door_lookup.get(session, door_session_id=pickup.id)
        door_session.door_closed(session, door, clock.now(), ref(station))
        assert door.state is DoorSessionState.COMPLETED
    compartment_1(any_database, station, door=DoorState.CLOSED, lock=LockState.LOCKING)
    assert carry_on(any_database, back_id, clock).state is DoorSessionState.WAITING
    compartment_1(any_database, station, door=DoorState.CLOSED, lock=LockState.LOCKED)
    opened = carry_on(any_database, back_id, clock)
    assert opened.state is DoorSessionState.OPENING and opened.command_id is not None


def test_a_compartment_that_never_closes_releases_the_waiting_return_after_two_minutes(
    any_database: Database, station: Station, clock: FrozenClock
) -> None:
    pickup = take_the_drill(any_database, station, clock)
    assert pickup.loan_id is not None
    back_id = hand_back(any_database, station, pickup.loan_id, clock)
    clock.advance(door_session.CLOSING_PATIENCE)
    ended = carry_on(any_database, back_id, clock)
    assert ended.release_reason is ReleaseReason.COMPARTMENT_NOT_FREE
    with any_database.read() as session:
        assert session.get_one(Loan, pickup.loan_id).is_open  # still lent: nothing came back


def test_one_tool_has_at_most_one_live_pickup_and_one_live_return(
    any_database: Database, station: Station, clock: FrozenClock
) -> None:
    pickup = take_the_drill(any_database, station, clock)
    assert pickup.loan_id is not None
    hand_back(any_database, station, pickup.loan_id, clock)
    with pytest.raises(WrongLendingState):
        hand_back(any_database, station, pickup.loan_id, clock)
    with pytest.raises(sa_exc.IntegrityError), any_database.write() as session:
        session.add(
            DoorSession.for_pickup(
                site_id=station.site_id, item_id=pickup.item_id,
                resident_id=station.residents[1], device_id=station.locker, compartment=1,
                now=clock.now(), hold=timedelta(hours=2),
            )
        )  # fmt: skip
        session.flush()


def test_only_its_own_steps_move_a_door_session(
    any_database: Database, station: Station, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        pickup = lending_locker.start_pickup(
            session, site_id=station.site_id, resident_id=station.residents[0],
            tool_type_id=station.drill_type, now=clock.now(),
        )  # fmt: skip
        assert pickup.state is DoorSessionState.OPENING
        with pytest.raises(WrongLendingState):
            pickup.complete(clock.now())  # the door has not even opened
        with pytest.raises(WrongLendingState):
            door_session.item_sensed(session, pickup, False, clock.now(), ref(station))
        assert session.scalar(select(Loan.id)) is None


def test_an_item_removed_after_its_pickup_was_released_is_lent_late_to_who_opened_the_door(
    any_database: Database, station: Station, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        pickup = lending_locker.start_pickup(
            session, site_id=station.site_id, resident_id=station.residents[0],
            tool_type_id=station.drill_type, now=clock.now(),
        )  # fmt: skip
        door_session.unlocked(session, pickup, clock.now())
        pickup_id = pickup.id
    clock.advance(timedelta(minutes=2))  # no news of the door: given up
    with any_database.write() as session:
        pickup = door_lookup.get(session, door_session_id=pickup_id)
        assert door_session.check_clocks(session, pickup, clock.now(), actor="system:test")
        assert pickup.release_reason is ReleaseReason.DOOR_NOT_OPENED
        # The locker's events, held up by an outage, arrive: the door had opened, the drill
        # left.
        door_session.door_opened(session, pickup, clock.now(), ref(station))
        late = door_session.late_pickup_at(session, station.locker, 1, pickup.item_id)
        assert late is pickup
        loan = door_session.confirm_pickup_late(session, pickup, clock.now(), ref(station))
        assert loan.resident_id == station.residents[0] and loan.confirmed_late
        assert session.get_one(Item, pickup.item_id).status is ItemStatus.ON_LOAN
        assert pickup.loan_id == loan.id and pickup.state is DoorSessionState.RELEASED
        [alert] = session.scalars(select(StaffAlert)).all()
        assert alert.kind == "lending.confirmed_late" and alert.resident_id == loan.resident_id


def test_the_lockers_late_events_through_its_handlers_make_the_loan_and_close_the_cycle(
    any_database: Database, station: Station, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        pickup = lending_locker.start_pickup(
            session, site_id=station.site_id, resident_id=station.residents[0],
            tool_type_id=station.drill_type, now=clock.now(),
        )  # fmt: skip
        pickup_id, command_id = pickup.id, pickup.command_id
        door_session.release(session, pickup, ReleaseReason.TIMED_OUT, clock.now(),
                             actor="system:test")  # fmt: skip

    def event(kind: str, **fields: object) -> None:
        with any_database.write() as session:
            locker = session.scalars(select(Device).where(Device.device_id == station.locker))
            handler = getattr(lending_events, kind)
            handler(
                session,
                locker.one(),
                Event(
                    station.locker, 1, next(SEQ), clock.now(), kind, {"compartment": 1, **fields}
                ),
                clock.now(),
            )

    event("door_opened", command_id=command_id)
    event("item_present_changed", present=False)
    event("door_closed")
    with any_database.read() as session:
        [loan] = session.scalars(select(Loan)).all()
        assert loan.confirmed_late and loan.resident_id == station.residents[0]
        assert session.get_one(DoorSession, pickup_id).loan_id == loan.id
        assert [a.kind for a in session.scalars(select(StaffAlert))] == ["lending.confirmed_late"]
