"""Retiring a space ends its waiting list and tells those waiting; an admin can restore a retired
space or tool type, audited like retiring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from booking_centre import Centre, at
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.admin import centre as centre_admin
from booking.admin import tools as tools_admin
from booking.alerts.models.notifications import Notification, NotificationKind
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import Conflict, InvalidInput, NotFound, StillInUse
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.lending import catalogue as lending_catalogue
from booking.lending.models.tools import ItemStatus
from booking.people import staff
from booking.people.models.staff import StaffAccount, StaffRole
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.spaces import Space, SpaceKind
from booking.spaces.models.waitlist import WaitlistEntry, WaitlistStatus


@pytest.fixture
def admin(any_database: Database, clock: FrozenClock, centre: Centre) -> StaffAccount:
    with any_database.write() as session:
        account = staff.create_staff(
            session,
            site_id=centre.site_id,
            username="boss",
            display_name="站长",
            password="correct horse battery",
            role=StaffRole.ADMIN,
            now=clock.now(),
        )
        session.expunge(account)
        return account


def queue(session: Session, centre: Centre, space_id: int, resident: int, hour: int) -> int:
    """A resident waiting for ``hour`` tomorrow (the booking they queued behind is gone, and the
    offer went to nobody: say they were suspended when it freed)."""
    entry = WaitlistEntry(
        site_id=centre.site_id,
        space_id=space_id,
        resident_id=centre.residents[resident],
        starts_at=at(hour, days=1),
        ends_at=at(hour + 1, days=1),
        status=WaitlistStatus.WAITING,
        created_at=at(9),
    )
    session.add(entry)
    session.flush()
    return entry.id


def notices(session: Session) -> list[tuple[int, NotificationKind, str]]:
    return [
        (n.resident_id, n.kind, n.detail)
        for n in session.scalars(select(Notification).order_by(Notification.id))
    ]


def actions(session: Session, subject: str) -> list[str]:
    return list(
        session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject == subject).order_by(AuditEntry.id)
        )
    )


def test_retiring_a_space_ends_its_waiting_list_and_tells_each_resident_once(
    any_database: Database, clock: FrozenClock, centre: Centre, admin: StaffAccount
) -> None:
    with any_database.write() as session:
        first = queue(session, centre, centre.dance_id, 0, 10)
        second = queue(session, centre, centre.dance_id, 0, 14)
        other = queue(session, centre, centre.dance_id, 1, 16)
        elsewhere = queue(session, centre, centre.meeting_id, 2, 10)
        centre_admin.retire_space(session, admin, centre.dance_id, now=clock.now())
    with any_database.read() as session:
        status = {e.id: e.status for e in session.scalars(select(WaitlistEntry))}
        assert status[first] is status[second] is status[other] is WaitlistStatus.CANCELLED
        assert status[elsewhere] is WaitlistStatus.WAITING
        told = notices(session)
        assert told == [
            (centre.residents[0], NotificationKind.WAITLIST_ENDED, "舞蹈室\nDance room"),
            (centre.residents[1], NotificationKind.WAITLIST_ENDED, "舞蹈室\nDance room"),
        ]
        detail = session.scalars(
            select(AuditEntry.detail).where(AuditEntry.action == "admin.space_retired")
        ).one()
        assert detail == {"code": "dance", "waitlist_ended": 3}


def test_a_wait_whose_time_has_begun_expires_without_a_notice_when_the_space_retires(
    any_database: Database, clock: FrozenClock, centre: Centre, admin: StaffAccount
) -> None:
    with any_database.write() as session:
        started = WaitlistEntry(
            site_id=centre.site_id,
            space_id=centre.dance_id,
            resident_id=centre.residents[0],
            starts_at=at(9),
            ends_at=at(9, 30),
            status=WaitlistStatus.WAITING,
            created_at=at(8),
        )
        session.add(started)
        session.flush()
        centre_admin.retire_space(session, admin, centre.dance_id, now=clock.now())
        assert started.status is WaitlistStatus.EXPIRED
        assert notices(session) == []


def test_a_space_not_retired_keeps_its_waiting_list(
    any_database: Database, clock: FrozenClock, centre: Centre, admin: StaffAccount
) -> None:
    with any_database.write() as session:
        entry = queue(session, centre, centre.dance_id, 0, 10)
        session.add(
            Booking(
                site_id=centre.site_id,
                space_id=centre.dance_id,
                resident_id=centre.residents[1],
                starts_at=at(15, days=1),
                ends_at=at(16, days=1),
                status=BookingStatus.CONFIRMED,
                created_at=clock.now(),
            )
        )
        session.flush()
        with pytest.raises(StillInUse):
            centre_admin.retire_space(session, admin, centre.dance_id, now=clock.now())
        assert session.get_one(WaitlistEntry, entry).status is WaitlistStatus.WAITING
        assert notices(session) == []


def test_restoring_a_retired_space_takes_bookings_again_and_is_audited(
    any_database: Database, clock: FrozenClock, centre: Centre, admin: StaffAccount
) -> None:
    with any_database.write() as session:
        centre_admin.retire_space(session, admin, centre.dance_id, now=clock.now())
    later = clock.now() + timedelta(hours=1)
    with any_database.write() as session:
        room = centre_admin.restore_space(session, admin, centre.dance_id, now=later)
        assert room.retired_at is None
        booking_rules.check_not_retired(room)
        assert actions(session, f"space:{centre.dance_id}") == [
            "admin.space_retired",
            "admin.space_restored",
        ]


def test_restoring_a_space_in_use_is_a_conflict_and_changes_nothing(
    any_database: Database, clock: FrozenClock, centre: Centre, admin: StaffAccount
) -> None:
    with any_database.write() as session:
        with pytest.raises(Conflict):
            centre_admin.restore_space(session, admin, centre.dance_id, now=clock.now())
        assert actions(session, f"space:{centre.dance_id}") == []


def test_a_space_of_another_centre_cannot_be_restored(
    any_database: Database, clock: FrozenClock, centre: Centre, admin: StaffAccount
) -> None:
    with any_database.write() as session:
        elsewhere = Site(slug="far", name_zh="别处", name_en="Far")
        session.add(elsewhere)
        session.flush()
        far_room = Space(
            site_id=elsewhere.id,
            code="far",
            kind=SpaceKind.ACTIVITY,
            name_zh="远处",
            name_en="Far room",
            capacity=5,
            retired_at=clock.now(),
        )
        session.add(far_room)
        session.flush()
        with pytest.raises(NotFound):
            centre_admin.restore_space(session, admin, far_room.id, now=clock.now())
        assert far_room.retired_at is not None


def test_restoring_a_retired_tool_type_puts_it_back_in_the_catalogue(
    any_database: Database, clock: FrozenClock, centre: Centre, admin: StaffAccount
) -> None:
    with any_database.write() as session:
        saw = tools_admin.save_tool_type(
            session, admin, None, code="saw", name_zh="手锯", name_en="Saw", loan_days=2,
            now=clock.now(),
        )  # fmt: skip
        tools_admin.retire_tool_type(session, admin, saw.id, now=clock.now())
        with pytest.raises(InvalidInput):
            tools_admin.save_item(
                session, admin, None, tool_type_id=saw.id, asset_tag="S-1", locker=None,
                compartment=None, status=ItemStatus.AVAILABLE, now=clock.now(),
            )  # fmt: skip
    with any_database.write() as session:
        restored = tools_admin.restore_tool_type(session, admin, saw.id, now=clock.now())
        assert restored.retired_at is None
        lending_catalogue.ensure_not_retired(restored)
        tools_admin.save_item(
            session, admin, None, tool_type_id=saw.id, asset_tag="S-1", locker=None,
            compartment=None, status=ItemStatus.AVAILABLE, now=clock.now(),
        )  # fmt: skip
        assert saw.id in [
            e.tool_type.id for e in lending_catalogue.catalogue(session, site_id=admin.site_id)
        ]
        assert actions(session, f"tool_type:{saw.id}")[-2:] == [
            "admin.tool_type_retired",
            "admin.tool_type_restored",
        ]
        with pytest.raises(Conflict):
            tools_admin.restore_tool_type(session, admin, saw.id, now=clock.now())
        with pytest.raises(NotFound):
            tools_admin.restore_tool_type(session, admin, 999_999, now=clock.now())
