"""Opening a compartment for maintenance: a reason is required, the command says who and why,
and the audit log keeps the whole reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import InvalidInput
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people import staff
from booking.people.models.staff import StaffAccount, StaffRole
from devices.commands.operations import DeviceNotFound, DeviceOffline
from devices.fleet import provisioning
from devices.locker import maintenance
from devices.models.commands import DeviceCommand


@pytest.fixture
def worker(database: Database, clock: FrozenClock) -> StaffAccount:
    with database.write() as session:
        site = Site(slug="demo", name_zh="演示", name_en="Demo")
        other = Site(slug="other", name_zh="别处", name_en="Other")
        session.add_all([site, other])
        session.flush()
        for device_id, kind, site_id, online in (
            ("locker-a", "locker", site.id, True),
            ("locker-off", "locker", site.id, False),
            ("bp-1", "bp_terminal", site.id, True),
            ("far-locker", "locker", other.id, True),
        ):
            device, _ = provisioning.register_device(
                session, site_id, device_id, kind, "", clock.now()
            )
            device.online = online
            device.capabilities = {"compartments": 4}
        account = staff.create_staff(
            session,
            site_id=site.id,
            username="zhao",
            display_name="赵敏",
            password="correct horse battery",
            role=StaffRole.STAFF,
            now=clock.now(),
        )
        session.expunge(account)
        return account


def open_it(
    database: Database, clock: FrozenClock, worker: StaffAccount, device_id: str, reason: str
) -> DeviceCommand:
    with database.write() as session:
        command = maintenance.open_for_maintenance(
            session, worker, device_id=device_id, compartment=2, reason=reason, now=clock.now()
        )
        session.expunge(command)
        return command


def test_the_command_says_who_opened_it_and_why(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    command = open_it(database, clock, worker, "locker-a", "replace the  drill\nbattery")
    assert (command.name, command.args) == ("open", {"compartment": 2})
    assert command.requested_by == "maintenance:zhao:replace the drill battery"


def test_the_audit_log_keeps_the_whole_reason(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    reason = "check the hinge " * 20
    command = open_it(database, clock, worker, "locker-a", reason)
    assert len(command.requested_by) == 100
    with database.read() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action, entry.subject) == (
            "staff:zhao",
            "locker.opened_for_maintenance",
            "device:locker-a",
        )
        assert entry.detail == {
            "compartment": 2,
            "reason": reason.strip(),
            "command_id": command.id,
        }


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_missing_or_overlong_reason_opens_nothing(
    database: Database, clock: FrozenClock, worker: StaffAccount, reason: str
) -> None:
    with pytest.raises(InvalidInput):
        open_it(database, clock, worker, "locker-a", reason)
    with database.read() as session:
        assert session.scalars(select(DeviceCommand)).all() == []
        assert session.scalars(select(AuditEntry)).all() == []


@pytest.mark.parametrize("device_id", ["far-locker", "bp-1", "nope"])
def test_only_lockers_of_the_staff_members_own_site_open(
    database: Database, clock: FrozenClock, worker: StaffAccount, device_id: str
) -> None:
    with pytest.raises(DeviceNotFound):
        open_it(database, clock, worker, device_id, "look inside")


def test_an_offline_locker_is_not_asked(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    with pytest.raises(DeviceOffline):
        open_it(database, clock, worker, "locker-off", "look inside")
    with database.read() as session:
        assert session.scalars(select(AuditEntry)).all() == []


def test_the_item_in_the_opened_compartment_gets_the_opening_in_its_history(
    database: Database, clock: FrozenClock, worker: StaffAccount
) -> None:
    from booking.lending.models.events import LendingEvent
    from booking.lending.models.tool_types import ToolType
    from booking.lending.models.tools import Item

    with database.write() as session:
        drill = ToolType(site_id=worker.site_id, code="drill", name_zh="电钻", name_en="Drill")
        session.add(drill)
        session.flush()
        session.add(
            Item(
                site_id=worker.site_id,
                tool_type_id=drill.id,
                asset_tag="DR-01",
                locker_device_id="locker-a",
                compartment=2,
            )
        )
    command = open_it(database, clock, worker, "locker-a", "replace the battery")
    with database.read() as session:
        event = session.scalars(select(LendingEvent)).one()
        assert (event.actor, event.device_command_id, event.detail["reason"]) == (
            "staff:zhao",
            command.id,
            "replace the battery",
        )
