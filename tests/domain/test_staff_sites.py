"""The centres a member of staff works at (booking.people.staff_sites), on both databases:
grants only from a district admin or the command line, the console's current centre checked
against the grants on every read, and a refused switch that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import sites
from booking.core.db import Database
from booking.core.errors import Conflict, NotFound, NotPermitted
from booking.core.models.audit import AuditEntry
from booking.people import auth_sessions, staff_sites
from booking.people import staff as staff_service
from booking.people.models.staff import StaffAccount, StaffRole
from booking.people.models.staff_sessions import StaffSession

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def _account(session: Session, site_id: int, username: str, role: StaffRole) -> StaffAccount:
    return staff_service.create_staff(
        session, site_id=site_id, username=username, display_name=username,
        password="pw-0123456789", role=role, now=NOW,
    )  # fmt: skip


@pytest.fixture
def district(any_database: Database) -> Database:
    with any_database.write() as session:
        a = sites.create_site(session, slug="dongfang", name_zh="东方", name_en="Dongfang").id
        b = sites.create_site(session, slug="xinhua", name_zh="新华", name_en="Xinhua").id
        _account(session, a, "wang", StaffRole.STAFF)
        _account(session, a, "a.admin", StaffRole.ADMIN)
        _account(session, b, "qu.admin", StaffRole.DISTRICT_ADMIN)
    return any_database


def _get(session: Session, username: str) -> StaffAccount:
    return staff_service.get_staff_by_username(session, username)


def _site(session: Session, slug: str) -> int:
    return sites.get_site_by_slug(session, slug).id


def test_a_centres_admin_may_not_grant_another_centre(district: Database) -> None:
    with district.write() as session:
        with pytest.raises(NotPermitted):
            staff_sites.grant_site(
                session, by=_get(session, "a.admin"), staff_id=_get(session, "wang").id,
                site_id=_site(session, "xinhua"), now=NOW,
            )  # fmt: skip
        assert not staff_sites.may_work_at(
            session, staff=_get(session, "wang"), site_id=_site(session, "xinhua")
        )


def test_a_district_admin_grants_and_the_worker_may_work_there(district: Database) -> None:
    with district.write() as session:
        wang = _get(session, "wang")
        staff_sites.grant_site(
            session, by=_get(session, "qu.admin"), staff_id=wang.id, site_id=_site(session, "xinhua"),
            now=NOW,
        )  # fmt: skip
        assert [s.slug for s in staff_sites.work_sites(session, staff=wang)] == [
            "dongfang", "xinhua",
        ]  # fmt: skip
        with pytest.raises(Conflict):
            staff_sites.grant_site(
                session, by=None, staff_id=wang.id, site_id=_site(session, "xinhua"), now=NOW
            )
        (entry,) = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "staff.site_granted")
        )
        assert (entry.actor, entry.subject, entry.detail) == (
            "staff:qu.admin", "staff:wang", {"site": "xinhua", "as_admin": False},
        )  # fmt: skip


def test_a_district_admin_works_everywhere_without_a_grant(district: Database) -> None:
    with district.read() as session:
        qu = _get(session, "qu.admin")
        assert [s.slug for s in staff_sites.work_sites(session, staff=qu)] == [
            "xinhua", "dongfang",
        ]  # fmt: skip
        assert staff_sites.may_work_at(session, staff=qu, site_id=_site(session, "dongfang"))
        assert not staff_sites.may_work_at(session, staff=qu, site_id=10**6)


def test_a_refused_switch_changes_nothing(district: Database) -> None:
    with district.write() as session:
        wang = _get(session, "wang")
        token = auth_sessions.start_staff_session(session, staff=wang, now=NOW)
        with pytest.raises(NotPermitted):
            staff_sites.switch_site(
                session, staff=wang, token=token, site_id=_site(session, "xinhua"), now=NOW
            )
        assert session.scalar(select(StaffSession.site_id)) is None
        assert staff_sites.console_site_id(session, staff=wang, token=token) == wang.site_id
        assert list(session.scalars(select(AuditEntry))) == []


def test_the_current_centre_goes_home_when_the_grant_goes(district: Database) -> None:
    with district.write() as session:
        wang, xinhua = _get(session, "wang"), _site(session, "xinhua")
        staff_sites.grant_site(session, by=None, staff_id=wang.id, site_id=xinhua, now=NOW)
        token = auth_sessions.start_staff_session(session, staff=wang, now=NOW)
        staff_sites.switch_site(session, staff=wang, token=token, site_id=xinhua, now=NOW)
        assert staff_sites.console_site_id(session, staff=wang, token=token) == xinhua
        staff_sites.revoke_site(session, by=None, staff_id=wang.id, site_id=xinhua, now=NOW)
        assert staff_sites.console_site_id(session, staff=wang, token=token) == wang.site_id
        with pytest.raises(NotFound):
            staff_sites.revoke_site(session, by=None, staff_id=wang.id, site_id=xinhua, now=NOW)


def _working_at(session: Session, username: str, slug: str) -> StaffAccount:
    """The account as the console builds it for a sign-in that switched to ``slug``."""
    account = _get(session, username)
    token = auth_sessions.start_staff_session(session, staff=account, now=NOW)
    staff_sites.switch_site(
        session, staff=account, token=token, site_id=_site(session, slug), now=NOW
    )
    site_id, as_admin = staff_sites.console_workplace(session, staff=account, token=token)
    account.work_at(site_id, as_admin=as_admin)
    return account


def test_an_admin_at_home_only_works_at_a_centre_granted_without_the_admin_role(
    district: Database,
) -> None:
    with district.write() as session:
        admin = _get(session, "a.admin")
        assert admin.is_admin  # at home, dongfang
        staff_sites.grant_site(
            session, by=None, staff_id=admin.id, site_id=_site(session, "xinhua"), now=NOW
        )
        away = _working_at(session, "a.admin", "xinhua")
        assert away.working_site_id == _site(session, "xinhua")
        assert not away.is_admin
        away.work_at(away.site_id)
        assert away.is_admin  # back home, the home role again


def test_a_worker_granted_a_centre_as_its_admin_manages_it_there_only(district: Database) -> None:
    with district.write() as session:
        wang = _get(session, "wang")
        staff_sites.grant_site(
            session, by=None, staff_id=wang.id, site_id=_site(session, "xinhua"), now=NOW,
            as_admin=True,
        )  # fmt: skip
        away = _working_at(session, "wang", "xinhua")
        assert away.is_admin
        away.work_at(away.site_id)
        assert not away.is_admin  # at home, dongfang, a worker


def test_granting_again_with_the_other_role_changes_the_role_and_is_audited(
    district: Database,
) -> None:
    with district.write() as session:
        wang, xinhua = _get(session, "wang"), _site(session, "xinhua")
        staff_sites.grant_site(session, by=None, staff_id=wang.id, site_id=xinhua, now=NOW)
        staff_sites.grant_site(
            session, by=None, staff_id=wang.id, site_id=xinhua, now=NOW, as_admin=True
        )
        assert [(s.slug, a) for s, a in staff_sites.granted_sites(session, staff_id=wang.id)] == [
            ("xinhua", True),
        ]  # fmt: skip
        with pytest.raises(Conflict):
            staff_sites.grant_site(
                session, by=None, staff_id=wang.id, site_id=xinhua, now=NOW, as_admin=True
            )
        details = [
            e.detail
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "staff.site_granted")
                .order_by(AuditEntry.id)
            )
        ]
        assert details == [
            {"site": "xinhua", "as_admin": False}, {"site": "xinhua", "as_admin": True},
        ]  # fmt: skip
