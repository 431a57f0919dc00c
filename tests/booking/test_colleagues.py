"""A centre's admin looks after the centre's staff accounts without the operator's shell: adds
a colleague, sets a forgotten password, disables a leaver (whose sessions end at once) and
lets them back; never their own account, a district admin's or another centre's."""

from __future__ import annotations

import pytest
from booking_centre import Centre, build_centre
from sqlalchemy.orm import Session

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import Conflict, InvalidInput, NotFound, NotPermitted, StaffSignInFailed
from booking.core.models.audit import AuditEntry
from booking.people import auth_sessions, colleagues, staff
from booking.people.models.staff import StaffAccount, StaffRole

PASSWORD = "a-long-enough-password"


def account(
    db: Database, centre: Centre, username: str, role: StaffRole, clock: FrozenClock
) -> int:
    with db.write() as session:
        return staff.create_staff(
            session, site_id=centre.site_id, username=username, display_name=username,
            password=PASSWORD, role=role, now=clock.now(),
        ).id  # fmt: skip


@pytest.fixture
def admin_id(any_database: Database, centre: Centre, clock: FrozenClock) -> int:
    return account(any_database, centre, "sunli", StaffRole.ADMIN, clock)


def by(session: Session, staff_id: int) -> StaffAccount:
    return session.get_one(StaffAccount, staff_id)


def signs_in(db: Database, username: str, password: str, clock: FrozenClock) -> bool:
    try:
        with db.write() as session:
            staff.authenticate_staff(
                session, username=username, password=password, now=clock.now(), client="t"
            )
    except StaffSignInFailed:
        return False
    return True


def audited(db: Database) -> list[tuple[str, str]]:
    with db.read() as session:
        return [(e.action, e.subject) for e in session.query(AuditEntry).order_by(AuditEntry.id)]


def test_an_admin_adds_a_colleague_who_signs_in_at_the_centre(
    any_database: Database, centre: Centre, admin_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        added = colleagues.add_colleague(
            session, by=by(session, admin_id), username="Liming", display_name="李明",
            password=PASSWORD, as_admin=False, now=clock.now(),
        )  # fmt: skip
        added_id, home, role = added.id, added.site_id, added.role
    assert (home, role) == (centre.site_id, StaffRole.STAFF)
    assert signs_in(any_database, "liming", PASSWORD, clock)
    assert ("staff.account_added", f"staff:{added_id}") in audited(any_database)


@pytest.mark.parametrize(
    ("username", "password", "error"),
    [
        ("zhao", PASSWORD, Conflict),
        ("a b", PASSWORD, InvalidInput),
        ("liming", "short", InvalidInput),
    ],
)
def test_a_colleague_with_a_taken_or_bad_name_or_a_short_password_is_not_added(
    any_database: Database, centre: Centre, admin_id: int, clock: FrozenClock,
    username: str, password: str, error: type[Exception],
) -> None:  # fmt: skip
    with pytest.raises(error), any_database.write() as session:
        colleagues.add_colleague(
            session, by=by(session, admin_id), username=username, display_name="李明",
            password=password, as_admin=False, now=clock.now(),
        )  # fmt: skip
    assert [a for a, _ in audited(any_database) if a == "staff.account_added"] == []


def test_a_disabled_leaver_is_signed_out_at_once_and_can_be_let_back(
    any_database: Database, centre: Centre, admin_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        zhao = session.get_one(StaffAccount, centre.staff_id)
        token = auth_sessions.start_staff_session(session, staff=zhao, now=clock.now())
    with any_database.write() as session:
        colleagues.set_active(
            session, by=by(session, admin_id), staff_id=centre.staff_id, active=False,
            now=clock.now(),
        )  # fmt: skip
    with any_database.read() as session:
        assert not auth_sessions.staff_session_is_live(session, token=token, now=clock.now())
    with any_database.write() as session:
        colleagues.set_active(
            session, by=by(session, admin_id), staff_id=centre.staff_id, active=True,
            now=clock.now(),
        )  # fmt: skip
    actions = [a for a, s in audited(any_database) if s == f"staff:{centre.staff_id}"]
    assert actions == ["staff.account_disabled", "staff.account_enabled"]


def test_a_forgotten_password_is_replaced_and_the_old_one_stops_working(
    any_database: Database, centre: Centre, admin_id: int, clock: FrozenClock
) -> None:
    zhao = account(any_database, centre, "wangfang", StaffRole.STAFF, clock)
    with any_database.write() as session:
        colleagues.set_password(
            session, by=by(session, admin_id), staff_id=zhao, password="another-long-one",
            now=clock.now(),
        )  # fmt: skip
    assert not signs_in(any_database, "wangfang", PASSWORD, clock)
    assert signs_in(any_database, "wangfang", "another-long-one", clock)


def test_an_admin_changes_neither_their_own_account_nor_a_district_admins_nor_another_centres(
    any_database: Database, centre: Centre, admin_id: int, clock: FrozenClock
) -> None:
    district = account(any_database, centre, "district", StaffRole.DISTRICT_ADMIN, clock)
    other = build_centre(any_database, clock, slug="other", phones_from=50, staff_name="qian")
    for staff_id, error in [(admin_id, NotPermitted), (district, NotPermitted),
                            (other.staff_id, NotFound)]:  # fmt: skip
        with pytest.raises(error), any_database.write() as session:
            colleagues.set_active(
                session, by=by(session, admin_id), staff_id=staff_id, active=False,
                now=clock.now(),
            )  # fmt: skip
    with any_database.read() as session:
        assert all(a.is_active for a in session.query(StaffAccount))


def test_a_worker_who_is_not_an_admin_looks_after_no_account(
    any_database: Database, centre: Centre, admin_id: int, clock: FrozenClock
) -> None:
    with pytest.raises(NotPermitted), any_database.write() as session:
        colleagues.set_active(
            session, by=by(session, centre.staff_id), staff_id=admin_id, active=False,
            now=clock.now(),
        )  # fmt: skip
