"""Admin changes in the domain: own site only, lent items keep their place, audits say what changed."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.admin import centre as centre_admin
from booking.admin import tools as tools_admin
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    SpaceRetired,
    StillInUse,
    ToolTypeRetired,
)
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.lending import catalogue as lending_catalogue
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.people import residents, staff
from booking.people.models.staff import StaffAccount, StaffRole
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.spaces import Space, SpaceKind


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


def edit_space(
    database: Database, clock: FrozenClock, admin: StaffAccount, code: str, **changes: Any
) -> None:
    """Save the space of that code with capacity 5, no approval, no hours, but for ``changes``."""
    with database.write() as session:
        space = session.scalars(select(Space).where(Space.code == code)).one()
        values: dict[str, Any] = {
            "name_zh": "x",
            "name_en": "x",
            "capacity": 5,
            "needs_approval": False,
            "opens_at": None,
            "closes_at": None,
            **changes,
        }
        centre_admin.update_space(session, admin, space.id, now=clock.now(), **values)


def test_a_space_of_another_site_is_not_found(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with pytest.raises(NotFound):
        edit_space(database, clock, admin, "far")


def test_a_space_needs_both_hours_or_neither(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with pytest.raises(InvalidInput):
        edit_space(
            database, clock, admin, "dance", name_zh="舞蹈室", name_en="Dance", opens_at=time(9, 0)
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
            "locker": tools_admin.Locker("locker-a", admin.site_id, 8),
            "compartment": 1,
            "status": ItemStatus.ON_LOAN,
            **change,
        }
        tools_admin.save_item(session, admin, item.id, now=clock.now(), **values)  # type: ignore[arg-type]


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
            tools_admin.save_item(
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
            tools_admin.save_item(
                session,
                admin,
                None,
                tool_type_id=drill.id,
                asset_tag="D-2",
                locker=tools_admin.Locker("far-locker", admin.site_id + 1, 8),
                compartment=1,
                status=ItemStatus.AVAILABLE,
                now=clock.now(),
            )


def test_saving_without_a_change_writes_no_audit_entry(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        centre_admin.update_site(
            session, admin, name_zh="演示", name_en="Demo", address="", opens_at=time(8, 0),
            closes_at=time(21, 0), now=clock.now(),
        )  # fmt: skip
    with database.read() as session:
        assert session.scalars(select(AuditEntry)).all() == []


# --- creating and retiring spaces and tool types ------------------------------------------------


def new_room(session: Session, admin: StaffAccount, clock: FrozenClock, **changes: Any) -> Space:
    values: dict[str, Any] = {
        "code": "yoga",
        "kind": SpaceKind.ACTIVITY,
        "name_zh": "瑜伽室",
        "name_en": "Yoga room",
        "capacity": 12,
        "needs_approval": False,
        "opens_at": None,
        "closes_at": None,
        **changes,
    }
    return centre_admin.create_space(session, admin, now=clock.now(), **values)


def test_a_space_is_created_at_the_admins_site_and_audited(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        space = new_room(session, admin, clock, code="Yoga")
        assert (space.site_id, space.code, space.retired_at) == (admin.site_id, "yoga", None)
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "admin.space_added")
        ).one()
        assert entry.subject == f"space:{space.id}" and entry.detail["kind"] == "activity"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code": "dance"}, Conflict),
        ({"code": "no spaces"}, InvalidInput),
        ({"name_zh": "  "}, InvalidInput),
        ({"capacity": 0}, InvalidInput),
        ({"opens_at": time(9)}, InvalidInput),
    ],
)
def test_a_bad_new_space_is_refused(
    database: Database,
    clock: FrozenClock,
    admin: StaffAccount,
    changes: dict[str, Any],
    error: type[Exception],
) -> None:
    with database.write() as session, pytest.raises(error):
        new_room(session, admin, clock, **changes)


def dance(session: Session) -> Space:
    return session.scalars(select(Space).where(Space.code == "dance")).one()


def test_a_retired_space_takes_no_new_bookings(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        room = dance(session)
        centre_admin.retire_space(session, admin, room.id, now=clock.now())
        assert room.retired_at == clock.now()
        with pytest.raises(SpaceRetired):
            booking_rules.check_not_retired(room)
        assert session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject == f"space:{room.id}")
        ).all() == ["admin.space_retired"]


def test_a_space_with_a_booking_still_to_come_is_not_retired(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        room = dance(session)
        resident = residents.register_resident(
            session, site_id=admin.site_id, name="王秀英", phone="13800000001", pin="275139",
            now=clock.now(),
        )  # fmt: skip
        session.add(
            Booking(
                site_id=admin.site_id,
                space_id=room.id,
                resident_id=resident.id,
                starts_at=clock.now() + timedelta(days=1),
                ends_at=clock.now() + timedelta(days=1, hours=1),
                status=BookingStatus.CONFIRMED,
                created_at=clock.now(),
            )
        )
        session.flush()
        with pytest.raises(StillInUse) as refused:
            centre_admin.retire_space(session, admin, room.id, now=clock.now())
        assert refused.value.details["count"] == 1
        assert room.retired_at is None


def test_a_tool_type_with_an_item_on_loan_is_not_retired(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        drill = session.scalars(select(ToolType).where(ToolType.code == "drill")).one()
        with pytest.raises(StillInUse):
            tools_admin.retire_tool_type(session, admin, drill.id, now=clock.now())
        assert drill.retired_at is None


def test_a_retired_tool_type_leaves_the_catalogue_and_is_lent_no_more(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        drill = session.scalars(select(ToolType).where(ToolType.code == "drill")).one()
        for item in drill.items:
            item.status = ItemStatus.AVAILABLE
        tools_admin.retire_tool_type(session, admin, drill.id, now=clock.now())
        assert lending_catalogue.catalogue(session, site_id=admin.site_id) == []
        with pytest.raises(ToolTypeRetired):
            lending_catalogue.ensure_not_retired(drill)
        with pytest.raises(Conflict):
            tools_admin.retire_tool_type(session, admin, drill.id, now=clock.now())
        assert session.get_one(Item, drill.items[0].id).tool_type_id == drill.id  # kept


def test_a_retired_tool_type_takes_no_new_items(
    database: Database, clock: FrozenClock, admin: StaffAccount
) -> None:
    with database.write() as session:
        saw = tools_admin.save_tool_type(
            session, admin, None, code="saw", name_zh="手锯", name_en="Saw", loan_days=2,
            now=clock.now(),
        )  # fmt: skip
        tools_admin.retire_tool_type(session, admin, saw.id, now=clock.now())
        with pytest.raises(InvalidInput):
            tools_admin.save_item(
                session, admin, None, tool_type_id=saw.id, asset_tag="SAW-1", locker=None,
                compartment=None, status=ItemStatus.AVAILABLE, now=clock.now(),
            )  # fmt: skip
