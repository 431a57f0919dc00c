"""The lending handlers read what a transaction's lockers have going on once
(devices.locker.quiet_lockers), and ask the database only where something is: on both
databases, a batch applies as its events one by one would, whatever came before in it."""

from __future__ import annotations

import json
from itertools import count
from typing import Any

import pytest
from lending_centre import Station, build_station, report_locker
from sqlalchemy import event as orm_events
from sqlalchemy import select

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import door_session
from booking.lending.models.door_sessions import DoorSession, DoorSessionState
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan
from booking.lending.models.tools import Item, ItemStatus
from devices.ingest import apply as ingest
from devices.ingest.apply import Inbound
from devices.ingest.handlers import default_handlers
from devices.locker import opening as lending_locker


class Locker:
    """The station's locker, its events applied as the worker's bridge applies a batch."""

    def __init__(self, database: Database, station: Station, clock: FrozenClock) -> None:
        self.database, self.station, self.clock = database, station, clock
        self.seqs = count(1)
        self.handlers = default_handlers()

    def event(self, type_: str, **fields: Any) -> Inbound:
        body = {
            "v": 1, "device": self.station.locker, "session": 1, "seq": next(self.seqs),
            "ts": self.clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "type": type_, **fields,
        }  # fmt: skip
        topic = f"linli/v1/{self.station.slug}/{self.station.locker}/event"
        return Inbound(topic, json.dumps(body).encode(), self.clock.now())

    def apply(self, *items: Inbound) -> ingest.Outcome:
        with self.database.write() as session:
            outcome = ingest.apply_batch(session, list(items), self.clock.now(), self.handlers)
        assert outcome.dead_letters == {} and outcome.applied == len(items)
        return outcome


@pytest.fixture
def station(any_database: Database, clock: FrozenClock) -> Station:
    built = build_station(any_database, clock, slug="quiet")
    report_locker(any_database, built, clock)
    return built


@pytest.fixture
def locker(any_database: Database, station: Station, clock: FrozenClock) -> Locker:
    return Locker(any_database, station, clock)


def pickup(database: Database, station: Station, clock: FrozenClock) -> DoorSession:
    """A resident's pickup of a drill, its compartment unlocked, waiting for the door."""
    with database.write() as session:
        door = lending_locker.start_pickup(
            session, site_id=station.site_id, resident_id=station.residents[0],
            tool_type_id=station.drill_type, now=clock.now(),
        )  # fmt: skip
        door_session.unlocked(session, door, clock.now())
        session.flush()
        session.expunge(door)
    assert door.state is DoorSessionState.OPENING and door.command_id is not None
    return door


def item(database: Database, item_id: int) -> Item:
    with database.read() as session:
        found = session.get_one(Item, item_id)
        session.expunge(found)
        return found


def test_a_door_opened_and_the_tool_taken_in_one_batch_is_a_loan(
    any_database: Database, station: Station, clock: FrozenClock, locker: Locker
) -> None:
    door = pickup(any_database, station, clock)
    n = door.compartment
    locker.apply(
        # Something in an empty compartment first: the batch reads its locker then.
        locker.event("item_present_changed", compartment=7, present=True),
        locker.event("door_opened", compartment=n, command_id=door.command_id),
        locker.event("item_present_changed", compartment=n, present=False),
        locker.event("door_closed", compartment=n),
    )
    with any_database.read() as session:
        loan = session.scalars(select(Loan)).one()
        assert (loan.item_id, loan.resident_id) == (door.item_id, station.residents[0])
        assert session.get_one(DoorSession, door.id).state is DoorSessionState.COMPLETED
    assert item(any_database, door.item_id).status is ItemStatus.ON_LOAN


def test_a_tool_taken_without_a_pickup_and_put_back_in_one_batch_ends_where_two_batches_do(
    any_database: Database, station: Station, clock: FrozenClock, locker: Locker
) -> None:
    drill = station.drills[0]
    locker.apply(locker.event("item_present_changed", compartment=1, present=False))
    locker.apply(locker.event("item_present_changed", compartment=1, present=True))
    two_batches = item(any_database, drill).status
    locker.apply(
        locker.event("item_present_changed", compartment=1, present=False),
        locker.event("item_present_changed", compartment=1, present=True),
    )
    assert item(any_database, drill).status is two_batches
    with any_database.read() as session:
        actions = list(
            session.scalars(
                select(LendingEvent.action)
                .where(LendingEvent.item_id == drill)
                .order_by(LendingEvent.id)
            )
        )
    # The two episodes are recorded alike.
    assert actions[: len(actions) // 2] == actions[len(actions) // 2 :]
    assert LendingAction.ITEM_MISSING in actions
    assert LendingAction.ITEM_MISSING in actions


def test_something_put_where_nothing_was_expected_beside_an_open_return_says_where_it_belongs(
    any_database: Database, station: Station, clock: FrozenClock, locker: Locker
) -> None:
    door = pickup(any_database, station, clock)
    locker.apply(
        locker.event("door_opened", compartment=door.compartment, command_id=door.command_id),
        locker.event("item_present_changed", compartment=door.compartment, present=False),
        locker.event("door_closed", compartment=door.compartment),
    )
    with any_database.write() as session:
        loan_id = session.scalars(select(Loan.id)).one()
        back = lending_locker.start_return(
            session, site_id=station.site_id, resident_id=station.residents[0],
            loan_id=loan_id, now=clock.now(),
        )  # fmt: skip
        assert back.state is DoorSessionState.OPENING
    # Compartment 6 is empty and nothing is going on there: the locker's one read says so.
    locker.apply(locker.event("item_present_changed", compartment=6, present=True))
    with any_database.read() as session:
        params = session.scalars(
            select(StaffAlert.params).where(StaffAlert.kind == "lending.wrong_compartment")
        ).one()
    assert params == {
        "device": station.locker, "compartment": 6, "expected": door.compartment,
    }  # fmt: skip


def test_events_where_nothing_of_ours_is_kept_read_the_lending_records_once_a_batch(
    any_database: Database, station: Station, clock: FrozenClock, locker: Locker
) -> None:
    # Compartments 5-8 hold nothing of ours and no door of ours is open.
    events = [
        locker.event("item_present_changed", compartment=n, present=present)
        for present in (True, False)
        for n in (5, 6, 7, 8)
    ]
    lending_reads: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if any(t in statement for t in ("door_sessions", "items", "lending_mismatches")):
            lending_reads.append(statement)

    orm_events.listen(any_database.engine, "before_cursor_execute", note)
    try:
        locker.apply(*events)
    finally:
        orm_events.remove(any_database.engine, "before_cursor_execute", note)
    assert len(lending_reads) == 1
    with any_database.read() as session:
        alerts = session.scalars(
            select(StaffAlert.subject).where(StaffAlert.kind == "lending.wrong_compartment")
        ).all()
    assert alerts == [f"device:{station.locker}"] * 4


def test_a_sensor_that_keeps_reporting_something_where_nothing_was_expected_keeps_one_alert(
    any_database: Database, station: Station, clock: FrozenClock, locker: Locker
) -> None:
    # Compartments 5 and 6 hold nothing of ours; something turned up in 5 earlier.
    locker.apply(locker.event("item_present_changed", compartment=5, present=True))
    flickers = [
        locker.event("item_present_changed", compartment=n, present=present)
        for _ in range(3)
        for n in (5, 6)
        for present in (False, True)
    ]
    alert_statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "staff_alerts" in statement:
            alert_statements.append(statement.split()[0])

    orm_events.listen(any_database.engine, "before_cursor_execute", note)
    try:
        locker.apply(*flickers)
    finally:
        orm_events.remove(any_database.engine, "before_cursor_execute", note)
    # The batch read its locker's open alerts once; compartment 6's was raised once (looked
    # for, then inserted), and six reports of something there asked nothing more.
    assert alert_statements == ["SELECT", "SELECT", "INSERT"]

    def alerts_of(n: int) -> list[AlertStatus]:
        with any_database.read() as session:
            return list(
                session.scalars(
                    select(StaffAlert.status)
                    .where(StaffAlert.dedupe_key == f"lending:unexpected:{station.locker}:{n}")
                    .order_by(StaffAlert.id)
                )
            )

    assert alerts_of(5) == alerts_of(6) == [AlertStatus.OPEN]
    # Staff resolve compartment 5's alert: its next report raises it again.
    with any_database.write() as session:
        alerts.resolve_by_itself(
            session, site_id=station.site_id, now=clock.now(), note="looked",
            dedupe_key=f"lending:unexpected:{station.locker}:5",
        )  # fmt: skip
    locker.apply(locker.event("item_present_changed", compartment=5, present=True))
    assert alerts_of(5) == [AlertStatus.RESOLVED, AlertStatus.OPEN]


def test_a_door_opened_for_a_pickup_is_seen_by_the_next_batch_too(
    any_database: Database, station: Station, clock: FrozenClock, locker: Locker
) -> None:
    door = pickup(any_database, station, clock)
    n = door.compartment
    locker.apply(locker.event("door_opened", compartment=n, command_id=door.command_id))
    locker.apply(locker.event("item_present_changed", compartment=n, present=False))
    with any_database.read() as session:
        assert session.scalars(select(Loan.item_id)).one() == door.item_id


def test_a_door_opened_and_closed_untouched_in_one_batch_ends_the_pickup_as_two_batches_do(
    any_database: Database, station: Station, clock: FrozenClock, locker: Locker
) -> None:
    def open_and_close(*, one_batch: bool) -> DoorSessionState:
        door = pickup(any_database, station, clock)
        n = door.compartment
        events = [
            # Something in an empty compartment first: the batch reads its locker then.
            locker.event("item_present_changed", compartment=7, present=True),
            locker.event("door_opened", compartment=n, command_id=door.command_id),
            locker.event("door_closed", compartment=n),
        ]
        if one_batch:
            locker.apply(*events)
        else:
            for one in events:
                locker.apply(one)
        with any_database.read() as session:
            return session.get_one(DoorSession, door.id).state

    two_batches = open_and_close(one_batch=False)
    assert two_batches not in (DoorSessionState.OPENING, DoorSessionState.DOOR_OPEN)
    assert open_and_close(one_batch=True) is two_batches
