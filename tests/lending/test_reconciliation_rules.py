"""Reconciliation on the domain service alone: what a locker's full state says of each
compartment (as the device side hands it over) against the lending records, and what staff
decide about each disagreement. The same rules against a simulated locker over a real broker
are in test_locker_reconciliation.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from lending_centre import Station, build_station, staff_of
from simultaneous import OK, REPEATS, all_at_once, refusals_only
from sqlalchemy import select

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import InvalidInput
from booking.core.models.audit import AuditEntry
from booking.lending import catalogue as lending_catalogue
from booking.lending import door_session, mismatch_resolve
from booking.lending import operations as lending
from booking.lending import reconciliation as lending_reconciliation
from booking.lending.errors import (
    ItemUnavailable,
    MismatchAlreadyResolved,
    ResolutionDoesNotFit,
)
from booking.lending.history import DeviceRef
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.mismatches import LendingMismatch, MismatchKind, MismatchResolution
from booking.lending.models.tools import Item, ItemStatus
from booking.lending.reconciliation import CompartmentReport

SEQ = iter(range(1, 10**6))
RACE_SLUGS = itertools.count()


@pytest.fixture
def station(any_database: Database, clock: FrozenClock) -> Station:
    return build_station(any_database, clock)


@pytest.fixture
def db(any_database: Database) -> Iterator[Database]:
    yield any_database


def full_state(
    db: Database, station: Station, clock: FrozenClock, *, absent: tuple[int, ...] = (),
    busy: tuple[int, ...] = (),
) -> lending_reconciliation.Reconciled:  # fmt: skip
    """The locker reports its 8 compartments: drills in 1-3 and the ladder in 4 present
    unless ``absent``, 5-8 empty; ``busy`` ones in the middle of a door cycle."""
    reports = [
        CompartmentReport(n=n, item_present=n <= 4 and n not in absent, at_rest=n not in busy)
        for n in range(1, 9)
    ]
    with db.write() as session:
        return lending_reconciliation.reconcile(
            session,
            site_id=station.site_id,
            device_id=station.locker,
            reports=reports,
            now=clock.now(),
            source=DeviceRef(station.locker, 1, next(SEQ)),
        )


def lend(db: Database, station: Station, clock: FrozenClock, item_id: int) -> int:
    """The drill handed over (a locker item in hand, lent at the counter): the loan's id."""
    with db.write() as session:
        loan = lending.lend_at_counter(
            session, staff=staff_of(session, station), item_id=item_id,
            resident_id=station.residents[0], now=clock.now(),
        )  # fmt: skip
        return loan.id


def rows(db: Database, model: type, *where: object) -> list:  # type: ignore[type-arg]
    with db.read() as session:
        found = list(session.scalars(select(model).where(*where)))  # type: ignore[arg-type]
        for row in found:
            session.expunge(row)
        return found


def item(db: Database, item_id: int) -> Item:
    [found] = rows(db, Item, Item.id == item_id)
    return found


def resolve(
    db: Database, station: Station, clock: FrozenClock, mismatch_id: int,
    resolution: str, note: str = "checked the compartment", **extra: object,
) -> None:  # fmt: skip
    with db.write() as session:
        mismatch_resolve.resolve(
            session, staff=staff_of(session, station), mismatch_id=mismatch_id,
            resolution=resolution, note=note, now=clock.now(), **extra,  # type: ignore[arg-type]
        )  # fmt: skip


# --- present during a loan ------------------------------------------------------------------


def test_a_tool_in_its_compartment_while_its_loan_is_open_asks_staff_returned_without_a_return(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    loan_id = lend(db, station, clock, station.drills[0])
    full_state(db, station, clock)
    [m] = rows(db, LendingMismatch)
    assert (m.kind, m.item_id, m.loan_id, m.compartment) == (
        MismatchKind.PRESENT_DURING_LOAN, station.drills[0], loan_id, 1,
    )  # fmt: skip
    assert m.is_open and m.device_seq is not None
    [alert] = rows(db, StaffAlert)
    assert alert.kind == "lending.present_during_loan" and alert.subject == f"mismatch:{m.id}"
    assert alert.resident_id == station.residents[0]
    # Nothing changes before staff look: the compartment may hold something else.
    [loan] = rows(db, Loan)
    assert loan.status is LoanStatus.ACTIVE
    assert item(db, station.drills[0]).status is ItemStatus.ON_LOAN
    assert rows(db, LendingEvent, LendingEvent.action == LendingAction.PRESENT_DURING_LOAN)


def test_staff_confirming_the_tool_is_back_end_the_loan_at_the_counter_with_who_and_why(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    lend(db, station, clock, station.drills[0])
    full_state(db, station, clock)
    [m] = rows(db, LendingMismatch)
    clock.advance(timedelta(minutes=5))
    resolve(db, station, clock, m.id, "returned", "drill is in compartment 1, works",
            condition="fine")  # fmt: skip
    [loan] = rows(db, Loan)
    assert loan.status is LoanStatus.RETURNED and loan.returned_to_staff_id == station.staff_id
    assert item(db, station.drills[0]).status is ItemStatus.AVAILABLE
    [m] = rows(db, LendingMismatch)
    assert (
        m.resolution is MismatchResolution.RETURNED and m.resolved_by_staff_id == station.staff_id
    )
    assert m.note == "drill is in compartment 1, works" and not m.is_current
    [alert] = rows(db, StaffAlert)
    assert alert.status is AlertStatus.RESOLVED
    [entry] = rows(db, AuditEntry, AuditEntry.action == "lending.mismatch_resolved")
    assert entry.staff_id == station.staff_id and entry.subject == f"mismatch:{m.id}"
    assert entry.detail["note"] == "drill is in compartment 1, works"
    assert entry.detail["resolution"] == "returned" and entry.detail["loan_ended"] is True
    # The records now agree with the locker: the next full state raises nothing.
    full_state(db, station, clock)
    assert len(rows(db, LendingMismatch)) == 1


def test_a_tool_confirmed_back_damaged_goes_to_maintenance(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    lend(db, station, clock, station.drills[0])
    full_state(db, station, clock)
    [m] = rows(db, LendingMismatch)
    resolve(db, station, clock, m.id, "returned", "chuck is broken", condition="damaged")
    assert item(db, station.drills[0]).status is ItemStatus.MAINTENANCE


def test_something_else_in_the_compartment_keeps_the_loan_open_and_is_not_raised_again(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    lend(db, station, clock, station.drills[0])
    full_state(db, station, clock)
    [m] = rows(db, LendingMismatch)
    resolve(db, station, clock, m.id, "still_out", "a hammer was left in it")
    [loan] = rows(db, Loan)
    assert loan.status is LoanStatus.ACTIVE
    clock.advance(timedelta(minutes=1))
    full_state(db, station, clock)
    [m] = rows(db, LendingMismatch)
    assert m.resolution is MismatchResolution.STILL_OUT and m.is_current
    assert m.last_seen_at == clock.now()
    # Staff take the hammer out: the locker stops showing it, and the episode ends.
    full_state(db, station, clock, absent=(1,))
    [m] = rows(db, LendingMismatch)
    assert m.resolution is MismatchResolution.STILL_OUT and not m.is_current


def test_a_loan_returned_another_way_ends_its_mismatch_when_the_locker_next_reports(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    loan_id = lend(db, station, clock, station.drills[0])
    full_state(db, station, clock)
    with db.write() as session:
        lending.return_at_counter(session, staff=staff_of(session, station), loan_id=loan_id,
                                  condition="fine", now=clock.now())  # fmt: skip
    clock.advance(timedelta(seconds=30))
    result = full_state(db, station, clock)
    assert [m.id for m in result.cleared] and not result.raised
    [m] = rows(db, LendingMismatch)
    assert m.resolution is MismatchResolution.CLEARED and m.cleared_at == clock.now()
    assert m.resolved_by_staff_id is None
    [alert] = rows(db, StaffAlert)
    assert alert.status is AlertStatus.RESOLVED and "agrees" in alert.note
    assert rows(db, AuditEntry, AuditEntry.action == "lending.mismatch_cleared")


# --- absent where the records say it is in --------------------------------------------------


def test_an_empty_compartment_where_the_tool_should_be_makes_it_missing_and_never_offered(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    [m] = rows(db, LendingMismatch)
    assert (m.kind, m.item_id, m.loan_id) == (MismatchKind.ITEM_ABSENT, station.drills[1], None)
    assert item(db, station.drills[1]).status is ItemStatus.MISSING
    [alert] = rows(db, StaffAlert)
    assert alert.kind == "lending.item_missing" and alert.severity.value == "urgent"
    with db.write() as session:
        [drills] = [
            e for e in lending_catalogue.catalogue(session, site_id=station.site_id)
            if e.tool_type.id == station.drill_type
        ]  # fmt: skip
        assert drills.in_lockers == 2
        for _ in range(2):
            hold = lending.reserve(session, site_id=station.site_id, resident_id=station.residents[1],
                                   tool_type_id=station.drill_type, now=clock.now())  # fmt: skip
            assert hold.item_id != station.drills[1]
    with pytest.raises(ItemUnavailable), db.write() as session:
        lending.lend_at_counter(session, staff=staff_of(session, station),
                                item_id=station.drills[1], resident_id=station.residents[2],
                                now=clock.now())  # fmt: skip


def test_a_hold_on_a_tool_gone_from_its_compartment_is_released(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    with db.write() as session:
        hold = lending.reserve(session, site_id=station.site_id, resident_id=station.residents[0],
                               tool_type_id=station.drill_type, now=clock.now())  # fmt: skip
        assert hold.item_id == station.drills[0]
    full_state(db, station, clock, absent=(1,))
    [door] = rows(db, DoorSession)
    assert door.state is DoorSessionState.RELEASED
    assert item(db, station.drills[0]).status is ItemStatus.MISSING


def test_the_same_disagreement_in_many_full_states_is_one_mismatch_and_one_alert(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    lend(db, station, clock, station.drills[0])
    for _ in range(3):
        full_state(db, station, clock, absent=(2,))
        clock.advance(timedelta(seconds=10))
    assert len(rows(db, LendingMismatch)) == 2
    assert len(rows(db, StaffAlert)) == 2
    assert len(rows(db, LendingEvent, LendingEvent.action == LendingAction.ITEM_MISSING)) == 1


def test_a_missing_tool_back_in_its_compartment_can_be_lent_again_and_its_history_stays(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    clock.advance(timedelta(minutes=3))
    full_state(db, station, clock)
    assert item(db, station.drills[1]).status is ItemStatus.AVAILABLE
    [m] = rows(db, LendingMismatch)
    assert m.resolution is MismatchResolution.CLEARED and not m.is_open and not m.is_current
    [found] = rows(db, LendingEvent, LendingEvent.action == LendingAction.ITEM_FOUND)
    assert found.actor == f"device:{station.locker}" and found.item_status is ItemStatus.AVAILABLE
    [alert] = rows(db, StaffAlert)
    assert alert.status is AlertStatus.RESOLVED
    # Gone again later: a new episode, raised again.
    full_state(db, station, clock, absent=(2,))
    assert len(rows(db, LendingMismatch)) == 2
    assert item(db, station.drills[1]).status is ItemStatus.MISSING


def test_staff_who_find_the_tool_put_it_back_in_service(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    [m] = rows(db, LendingMismatch)
    resolve(db, station, clock, m.id, "found", "it was on the counter; put back")
    assert item(db, station.drills[1]).status is ItemStatus.AVAILABLE
    full_state(db, station, clock)
    assert len(rows(db, LendingMismatch)) == 1


def test_found_but_the_compartment_still_empty_is_raised_again_and_never_offered(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    [m] = rows(db, LendingMismatch)
    resolve(db, station, clock, m.id, "found", "it is in there, I think")
    full_state(db, station, clock, absent=(2,))
    assert [x.is_open for x in rows(db, LendingMismatch)] == [False, True]
    assert item(db, station.drills[1]).status is ItemStatus.MISSING


def test_staff_who_cannot_find_the_tool_mark_it_lost(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    [m] = rows(db, LendingMismatch)
    resolve(db, station, clock, m.id, "lost", "searched the centre; gone")
    assert item(db, station.drills[1]).status is ItemStatus.LOST
    [lost] = rows(db, LendingEvent, LendingEvent.action == LendingAction.MARKED_LOST)
    assert lost.actor == f"staff:{station.slug}-staff"
    full_state(db, station, clock, absent=(2,))
    assert len(rows(db, LendingMismatch)) == 1


# --- never judged in the middle of a door cycle -----------------------------------------------


def test_a_compartment_whose_door_is_open_or_bolt_moving_is_not_judged(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    lend(db, station, clock, station.drills[0])
    result = full_state(db, station, clock, absent=(2,), busy=(1, 2))
    assert not result.raised and rows(db, LendingMismatch) == []


@pytest.mark.parametrize("at_the_door", [DoorSessionState.OPENING, DoorSessionState.DOOR_OPEN])
def test_a_pickup_at_the_door_is_not_judged_even_with_the_door_reported_shut(
    db: Database, station: Station, clock: FrozenClock, at_the_door: DoorSessionState
) -> None:
    with db.write() as session:
        hold = lending.reserve(session, site_id=station.site_id, resident_id=station.residents[0],
                               tool_type_id=station.drill_type, now=clock.now())  # fmt: skip
        hold.open_requested("7d0c3a4e-0000-4000-8000-000000000001", clock.now())
        if at_the_door is DoorSessionState.DOOR_OPEN:
            hold.door_opened(clock.now())
    full_state(db, station, clock, absent=(1,))
    assert rows(db, LendingMismatch) == []
    assert item(db, station.drills[0]).status is ItemStatus.RESERVED


# --- resolving: refusals --------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   "])
def test_a_resolution_without_a_note_is_refused_and_changes_nothing(
    db: Database, station: Station, clock: FrozenClock, note: str
) -> None:
    full_state(db, station, clock, absent=(2,))
    [m] = rows(db, LendingMismatch)
    with pytest.raises(InvalidInput):
        resolve(db, station, clock, m.id, "lost", note)
    [m] = rows(db, LendingMismatch)
    assert m.is_open and item(db, station.drills[1]).status is ItemStatus.MISSING


@pytest.mark.parametrize("resolution", ["returned", "still_out", "cleared", "gone"])
def test_a_resolution_of_the_other_kind_is_refused(
    db: Database, station: Station, clock: FrozenClock, resolution: str
) -> None:
    full_state(db, station, clock, absent=(2,))
    [m] = rows(db, LendingMismatch)
    with pytest.raises(ResolutionDoesNotFit):
        resolve(db, station, clock, m.id, resolution)
    assert rows(db, LendingMismatch)[0].is_open


def test_a_mismatch_resolved_twice_is_refused_the_second_time(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    [m] = rows(db, LendingMismatch)
    resolve(db, station, clock, m.id, "lost", "gone")
    with pytest.raises(MismatchAlreadyResolved):
        resolve(db, station, clock, m.id, "found", "found it")
    assert item(db, station.drills[1]).status is ItemStatus.LOST


def test_a_late_item_removed_that_makes_the_loan_after_all_ends_the_missing_mismatch(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    # A pickup gave up before its door_opened arrived; the locker's birth after the outage
    # shows the compartment empty (the tool is missing) before its outbox re-sends the events.
    with db.write() as session:
        hold = lending.reserve(session, site_id=station.site_id, resident_id=station.residents[0],
                               tool_type_id=station.drill_type, now=clock.now())  # fmt: skip
        hold.open_requested("7d0c3a4e-0000-4000-8000-000000000002", clock.now())
        door_session.release(session, hold, ReleaseReason.DOOR_NOT_OPENED, clock.now(),
                             actor="system:test")  # fmt: skip
        hold.stamp_late_door(clock.now())
        hold_id = hold.id
    full_state(db, station, clock, absent=(1,))
    assert item(db, station.drills[0]).status is ItemStatus.MISSING
    # The late "item removed": the loan is the resident's who opened the door.
    clock.advance(timedelta(seconds=5))
    with db.write() as session:
        late = session.get_one(DoorSession, hold_id)
        door_session.confirm_pickup_late(
            session, late, clock.now(), DeviceRef(station.locker, 1, 99)
        )
        lending_reconciliation.reconcile(
            session, site_id=station.site_id, device_id=station.locker,
            reports=[CompartmentReport(1, False, True)], now=clock.now(), raise_new=False,
        )  # fmt: skip
    [m] = rows(db, LendingMismatch)
    assert m.resolution is MismatchResolution.CLEARED and not m.is_current
    assert item(db, station.drills[0]).status is ItemStatus.ON_LOAN
    [loan] = rows(db, Loan)
    assert loan.confirmed_late
    # And a full state agreeing now raises nothing new.
    full_state(db, station, clock, absent=(1,))
    assert len(rows(db, LendingMismatch)) == 1


def test_an_event_alone_never_raises_a_mismatch(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    with db.write() as session:
        result = lending_reconciliation.reconcile(
            session, site_id=station.site_id, device_id=station.locker,
            reports=[CompartmentReport(2, False, True)], now=clock.now(), raise_new=False,
        )  # fmt: skip
    assert not result.raised and rows(db, LendingMismatch) == []
    assert item(db, station.drills[1]).status is ItemStatus.AVAILABLE


def event_shows(db: Database, station: Station, clock: FrozenClock, n: int, present: bool) -> None:
    """What reconciliation does after a single event of compartment ``n`` (at rest)."""
    with db.write() as session:
        lending_reconciliation.reconcile(
            session, site_id=station.site_id, device_id=station.locker,
            reports=[CompartmentReport(n, present, True)], now=clock.now(), raise_new=False,
        )  # fmt: skip


def test_an_event_brings_a_missing_tool_back_whether_or_not_its_mismatch_is_current(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    """After most events nothing can change, so reconciliation looks once whether a mismatch
    is current or a tool missing at the locker before it reads the locker's items."""
    full_state(db, station, clock, absent=(2, 3))
    with db.write() as session:
        # Compartment 3's ended without the tool back (as when an admin moves it elsewhere).
        [third] = session.scalars(
            select(LendingMismatch).where(LendingMismatch.item_id == station.drills[2])
        )
        third.clear(clock.now())
    clock.advance(timedelta(minutes=1))
    event_shows(db, station, clock, 2, present=True)
    event_shows(db, station, clock, 3, present=True)
    assert item(db, station.drills[1]).status is ItemStatus.AVAILABLE
    assert item(db, station.drills[2]).status is ItemStatus.AVAILABLE
    assert all(not m.is_current for m in rows(db, LendingMismatch))


def test_an_item_moved_to_another_compartment_ends_its_mismatch_where_it_was(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    with db.write() as session:
        moved = session.get_one(Item, station.drills[1])
        moved.compartment = 6  # an admin moved it to compartment 6, which is empty as well
    full_state(db, station, clock, absent=(6,))
    first, second = rows(db, LendingMismatch)
    assert first.compartment == 2 and not first.is_current and not first.is_open
    assert second.compartment == 6 and second.is_current and second.is_open


def test_an_item_moved_to_another_locker_is_judged_there_before_its_old_locker_reports(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    with db.write() as session:
        moved = session.get_one(Item, station.drills[1])
        moved.locker_device_id, moved.compartment = "other-locker", 1
    with db.write() as session:
        lending_reconciliation.reconcile(
            session, site_id=station.site_id, device_id="other-locker",
            reports=[CompartmentReport(1, False, True)], now=clock.now(),
        )  # fmt: skip
    first, second = rows(db, LendingMismatch)
    assert first.device_id == station.locker and not first.is_current
    assert second.device_id == "other-locker" and second.is_current


def test_a_missing_item_put_back_in_lending_by_hand_is_missing_again_while_its_compartment_is_empty(
    db: Database, station: Station, clock: FrozenClock
) -> None:
    full_state(db, station, clock, absent=(2,))
    with db.write() as session:
        session.get_one(Item, station.drills[1]).status = ItemStatus.AVAILABLE  # an admin's form
    full_state(db, station, clock, absent=(2,))
    assert item(db, station.drills[1]).status is ItemStatus.MISSING
    assert len(rows(db, LendingMismatch)) == 1 and len(rows(db, StaffAlert)) == 1
    assert len(rows(db, LendingEvent, LendingEvent.action == LendingAction.ITEM_MISSING)) == 2


# --- at the same moment -----------------------------------------------------------------------


def test_staff_resolving_while_the_locker_shows_the_tool_back_end_one_way_or_the_other(
    any_database: Database, clock: FrozenClock
) -> None:
    """Staff mark a missing drill lost while full states showing it back in its compartment
    arrive: either staff were first (lost, and the locker's news changes nothing more) or the
    locker was (available, and staff hear it was already resolved), never both or an error."""
    for _ in range(REPEATS):
        station = build_station(any_database, clock, slug=f"race{next(RACE_SLUGS)}")
        full_state(any_database, station, clock, absent=(2,))
        [m] = rows(any_database, LendingMismatch, LendingMismatch.site_id == station.site_id)

        def mark_lost(mismatch_id: int = m.id, at: Station = station) -> None:
            resolve(any_database, at, clock, mismatch_id, "lost", "gone")

        def back(at: Station = station) -> None:
            full_state(any_database, at, clock)

        outcomes = all_at_once([mark_lost, back, back, back])
        refusals_only(outcomes, "mismatch_already_resolved")
        [m] = rows(any_database, LendingMismatch, LendingMismatch.site_id == station.site_id)
        status = item(any_database, station.drills[1]).status
        if outcomes[0] == OK:
            assert (m.resolution, status) == (MismatchResolution.LOST, ItemStatus.LOST)
        else:
            assert (m.resolution, status) == (MismatchResolution.CLEARED, ItemStatus.AVAILABLE)
