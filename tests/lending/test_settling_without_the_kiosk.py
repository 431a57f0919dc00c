"""The worker settles a door session (pickup or return) on its own: nothing waits for the
kiosk page."""

from __future__ import annotations

from datetime import timedelta

from lending_centre import Station, report_locker
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import door_session
from booking.lending import policy as lending_policy
from booking.lending.models.door_sessions import DoorSession, DoorSessionState, ReleaseReason
from booking.lending.models.tools import Item, ItemStatus
from devices.commands import operations as commands
from devices.locker import opening as lending_locker
from devices.models.commands import CommandState, DeviceCommand
from kiosk import scheduler


def start_pickup(database: Database, station: Station, clock: FrozenClock) -> int:
    report_locker(database, station, clock)  # the worker runs; the locker has reported
    with database.write() as session:
        return lending_locker.start_pickup(
            session, site_id=station.site_id, resident_id=station.residents[0],
            tool_type_id=station.drill_type, now=clock.now(),
        ).id  # fmt: skip


def reservation(database: Database, reservation_id: int) -> DoorSession:
    with database.read() as session:
        row = session.get_one(DoorSession, reservation_id)
        session.expunge(row)
        return row


def run_worker_job(database: Database, clock: FrozenClock) -> None:
    scheduler.set_runtime(database, clock)
    scheduler.run_lending_jobs()


def test_the_pickup_and_its_open_command_are_recorded_together(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    found = reservation(database, start_pickup(database, station, clock))
    assert found.state is DoorSessionState.OPENING
    with database.read() as session:
        command = session.get_one(DeviceCommand, found.command_id)
        assert command.requested_by == f"pickup:{found.id}"
        assert command.args == {"compartment": 1}


def test_a_command_nobody_answered_releases_the_pickup_in_the_worker(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    reservation_id = start_pickup(database, station, clock)
    clock.advance(lending_locker.OPEN_TTL + timedelta(seconds=1))
    with database.write() as session:
        commands.expire_overdue(session, clock.now())
    run_worker_job(database, clock)
    found = reservation(database, reservation_id)
    assert found.release_reason is ReleaseReason.TIMED_OUT
    with database.read() as session:
        assert session.get_one(Item, found.item_id).status is ItemStatus.AVAILABLE


def test_an_unlocked_compartment_nobody_opened_is_released_by_the_worker(
    database: Database, station: Station, clock: FrozenClock
) -> None:
    reservation_id = start_pickup(database, station, clock)
    with database.write() as session:
        command = session.scalars(select(DeviceCommand)).one()
        command.state = CommandState.SUCCEEDED
        command.finished_at = clock.now()
    run_worker_job(database, clock)
    assert reservation(database, reservation_id).unlocked_at == clock.now()
    clock.advance(lending_policy.DEFAULT_POLICY.door_open_timeout + door_session.DOOR_EVENT_GRACE)
    run_worker_job(database, clock)
    assert reservation(database, reservation_id).state is DoorSessionState.OPENING
    clock.advance(timedelta(seconds=1))
    run_worker_job(database, clock)
    assert reservation(database, reservation_id).release_reason is ReleaseReason.DOOR_NOT_OPENED
