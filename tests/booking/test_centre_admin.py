"""Admin changes in the domain: own site only, lent items keep their place, audits say what changed."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from booking import centre_admin, staff
from booking.clock import FrozenClock
from booking.db import Database
from booking.errors import Conflict, InvalidInput, NotFound
from booking.models import (
    AuditEntry,
    Item,
    ItemStatus,
    Site,
    Space,
    SpaceKind,
    StaffAccount,
    StaffRole,
    ToolType,
)


@pytest.fixture
def admin(database: Database, clock: FrozenClock) -> StaffAccount:
    with database.write() as session:
        site = Site(slug="demo", name_zh="演示", name_en="Demo")
        other = Site(slug="other", name_zh="别处", name_en="Other")
        session.add_all([site, other])
        session.flush()
        for site_id, code in ((site.id, "dance"), (other.id, "far")):
            session.add(
                Space(
                    site_id=site_id,
                    code=code,
                    kind=SpaceKind.ACTIVITY,
                    name_zh=code,
                    name_en=code,
                    capacity=10,
                )
            )
        drill = ToolType(site_id=site.id, code="drill", name_zh="电钻", name_en="Drill")
        session.add(drill)
        session.flush()
        session.add(
            Item(
                site_id=site.id,
                tool_type_id=drill.id,
                asset_tag="D-1",
                status=ItemStatus.ON_LOAN,
                locker_device_id="locker-a",
                compartment=1,
            )
        )
        account = staff.create_staff(
            session,
            site_id=site.id,
            username="boss",
            display_name="站长",
            password="correct horse battery",
            role=StaffRole.ADMIN,
            now=clock.now(),
        )
        session.expunge(account)
        return account


def test_a_space_of_another_site_is_not_found(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        far = session.scalars(select(Space).where(Space.code == "far")).one()
        with pytest.raises(NotFound):
            centre_admin.update_space(
                session,
                admin,
                far.id,
                name_zh="x",
                name_en="x",
                capacity=5,
                needs_approval=False,
                opens_at=None,
                closes_at=None,
                now=clock.now(),
            )


def test_a_space_needs_both_hours_or_neither(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        dance = session.scalars(select(Space).where(Space.code == "dance")).one()
        with pytest.raises(InvalidInput):
            centre_admin.update_space(
                session,
                admin,
                dance.id,
                name_zh="舞蹈室",
                name_en="Dance",
                capacity=5,
                needs_approval=False,
                opens_at=time(9, 0),
                closes_at=None,
                now=clock.now(),
            )


def test_only_activity_rooms_are_refused_seats(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        dance = session.scalars(select(Space).where(Space.code == "dance")).one()
        with pytest.raises(InvalidInput):
            centre_admin.add_seat(
                session,
                admin,
                dance.id,
                number=1,
                has_power=False,
                by_window=False,
                quiet_zone=False,
                map_row=0,
                map_col=0,
                now=clock.now(),
            )


def save_lent_item(
    database: Database, clock: FrozenClock, admin: StaffAccount, **change: object
) -> None:
    with database.write() as session:
        item = session.scalars(select(Item)).one()
        values: dict[str, object] = {
            "tool_type_id": item.tool_type_id,
            "asset_tag": "D-1",
            "locker": centre_admin.Locker("locker-a", admin.site_id, 8),
            "compartment": 1,
            "status": ItemStatus.ON_LOAN,
            **change,
        }
        centre_admin.save_item(session, admin, item.id, now=clock.now(), **values)  # type: ignore[arg-type]


def test_a_lent_item_cannot_be_declared_available_by_hand(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with pytest.raises(Conflict):
        save_lent_item(database, clock, admin, status=ItemStatus.AVAILABLE)


def test_a_lent_items_tag_changes_while_its_loan_keeps_status_and_place(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    save_lent_item(database, clock, admin, asset_tag="d-1b")
    with database.read() as session:
        item = session.scalars(select(Item)).one()
        assert (item.asset_tag, item.status, item.compartment) == ("D-1B", ItemStatus.ON_LOAN, 1)


def test_no_one_sets_an_item_on_loan_by_hand(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        drill = session.scalars(select(ToolType)).one()
        with pytest.raises(InvalidInput):
            centre_admin.save_item(
                session,
                admin,
                None,
                tool_type_id=drill.id,
                asset_tag="D-3",
                locker=None,
                compartment=None,
                status=ItemStatus.ON_LOAN,
                now=clock.now(),
            )


def test_a_lent_item_cannot_be_moved(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with pytest.raises(Conflict):
        save_lent_item(database, clock, admin, compartment=2)


def test_an_item_cannot_go_into_a_locker_of_another_site(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        drill = session.scalars(select(ToolType)).one()
        with pytest.raises(InvalidInput):
            centre_admin.save_item(
                session,
                admin,
                None,
                tool_type_id=drill.id,
                asset_tag="D-2",
                locker=centre_admin.Locker("far-locker", admin.site_id + 1, 8),
                compartment=1,
                status=ItemStatus.AVAILABLE,
                now=clock.now(),
            )


def test_saving_without_a_change_writes_no_audit_entry(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        centre_admin.update_site_hours(
            session, admin, opens_at=time(8, 0), closes_at=time(21, 0), now=clock.now()
        )
    with database.read() as session:
        assert session.scalars(select(AuditEntry)).all() == []
