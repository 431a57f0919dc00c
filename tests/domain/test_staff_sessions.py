from __future__ import annotations

from datetime import timedelta

import pytest

from booking.core import audit
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import InvalidInput, SessionExpired, StaffSignInFailed, TooManySignIns
from booking.core.models.sites import Site
from booking.people import auth_sessions, staff
from booking.people.models.staff import StaffAccount, StaffRole

PASSWORD = "correct horse battery"
DESK = "10.0.0.5"  # the counter's computer


@pytest.fixture
def staff_id(any_database: Database, clock: FrozenClock) -> int:
    with any_database.write() as session:
        site = Site(slug="demo", name_zh="演示中心", name_en="Demo centre")
        session.add(site)
        session.flush()
        return staff.create_staff(
            session,
            site_id=site.id,
            username="zhao",
            display_name="赵敏",
            password=PASSWORD,
            role=StaffRole.STAFF,
            now=clock.now(),
        ).id


def open_session(database: Database, clock: FrozenClock, password: str = PASSWORD) -> str:
    with database.write() as session:
        account = staff.authenticate_staff(
            session, username="zhao", password=password, now=clock.now(), client=DESK
        )
        return auth_sessions.start_staff_session(session, staff=account, now=clock.now())


def resume(database: Database, clock: FrozenClock, token: str) -> StaffAccount:
    with database.write() as session:
        try:
            return auth_sessions.resume_staff_session(session, token=token, now=clock.now())
        except SessionExpired:
            session.commit()
            raise


def test_staff_passwords_are_hashed_with_argon2id(any_database: Database, staff_id: int) -> None:
    with any_database.read() as session:
        account = session.get(StaffAccount, staff_id)
        assert account is not None and account.password_hash.startswith("$argon2id$")


def test_unknown_user_and_wrong_password_fail_alike(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        with pytest.raises(StaffSignInFailed) as wrong:
            staff.authenticate_staff(session, username="zhao", password="wrong password!",
                                     now=clock.now(), client=DESK)  # fmt: skip
        with pytest.raises(StaffSignInFailed) as unknown:
            staff.authenticate_staff(session, username="nobody", password=PASSWORD,
                                     now=clock.now(), client=DESK)  # fmt: skip
    assert wrong.value.message == unknown.value.message


def try_password(database: Database, clock: FrozenClock, password: str, client: str = DESK,
                 username: str = "zhao") -> int:  # fmt: skip
    """Sign in as the console does: a failure is committed although the sign-in fails."""
    with database.write() as session:
        try:
            return staff.authenticate_staff(
                session, username=username, password=password, now=clock.now(), client=client
            ).id
        except (StaffSignInFailed, TooManySignIns):
            session.commit()
            raise


def test_staff_sign_in_is_slowed_after_two_wrong_passwords_from_one_client(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    for _ in range(3):
        with pytest.raises(StaffSignInFailed):
            try_password(any_database, clock, "wrong password!")
    with pytest.raises(TooManySignIns) as refused:
        try_password(any_database, clock, PASSWORD)
    assert refused.value.details["retry_after"] == 30
    assert try_password(any_database, clock, PASSWORD, client="10.0.0.20") == staff_id
    clock.advance(timedelta(seconds=30))
    assert try_password(any_database, clock, PASSWORD) == staff_id


def test_a_failed_staff_sign_in_is_audited_with_client_and_username_never_the_password(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    with pytest.raises(StaffSignInFailed):
        try_password(any_database, clock, "wrong password!")
    with pytest.raises(StaffSignInFailed):
        try_password(any_database, clock, "x", username="nobody")
    with any_database.read() as session:
        site_id = session.get_one(StaffAccount, staff_id).site_id
        entries = audit.entries(session, site_id=site_id, action="staff.sign_in_failed")
        # Only the known name is audited at its site; an unknown one at the given site (none).
        assert [(e.actor, e.subject, e.at, e.detail) for e in entries] == [
            (f"client:{DESK}", "staff:zhao", clock.now(), {"client": DESK}),
        ]
        assert "wrong password!" not in repr([e.detail for e in entries])


def test_a_session_token_resumes_its_account(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    token = open_session(any_database, clock)
    assert resume(any_database, clock, token).id == staff_id


def test_thirty_minutes_of_inactivity_end_a_staff_session(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    token = open_session(any_database, clock)
    clock.advance(timedelta(minutes=29))
    resume(any_database, clock, token)
    clock.advance(timedelta(minutes=30, seconds=1))
    with pytest.raises(SessionExpired):
        resume(any_database, clock, token)
    # Ended for good: coming back inside the window again does not revive it.
    clock.advance(timedelta(seconds=-10))
    with pytest.raises(SessionExpired):
        resume(any_database, clock, token)


def test_signing_out_ends_the_session_on_the_server(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    token = open_session(any_database, clock)
    with any_database.write() as session:
        auth_sessions.end_staff_session(session, token=token, now=clock.now())
    with pytest.raises(SessionExpired):
        resume(any_database, clock, token)


def test_changing_the_password_ends_every_session_of_the_account(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    first, second = open_session(any_database, clock), open_session(any_database, clock)
    with any_database.write() as session:
        staff.change_password(
            session, staff_id=staff_id, current=PASSWORD, new="a new long password", now=clock.now()
        )
    for token in (first, second):
        with pytest.raises(SessionExpired):
            resume(any_database, clock, token)


def test_disabling_an_account_ends_its_sessions_and_blocks_sign_in(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    token = open_session(any_database, clock)
    with any_database.write() as session:
        staff.set_active(session, staff_id=staff_id, active=False, now=clock.now())
    with pytest.raises(SessionExpired):
        resume(any_database, clock, token)
    with pytest.raises(StaffSignInFailed):
        open_session(any_database, clock)


def test_a_forged_token_is_not_a_session(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    open_session(any_database, clock)
    with pytest.raises(SessionExpired):
        resume(any_database, clock, "forged-token")


def test_only_a_hash_of_the_token_is_stored(
    any_database: Database, staff_id: int, clock: FrozenClock
) -> None:
    from sqlalchemy import select

    from booking.people.models.staff_sessions import StaffSession

    token = open_session(any_database, clock)
    with any_database.read() as session:
        stored = session.scalars(select(StaffSession.token_hash)).all()
    assert token not in stored and len(stored) == 1


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("zh", PASSWORD, "username"),
        ("Bad Name!", PASSWORD, "username"),
        ("wang", "short", "password"),
    ],
)
def test_staff_creation_rejects_bad_input(
    any_database: Database,
    clock: FrozenClock,
    staff_id: int,
    username: str,
    password: str,
    field: str,
) -> None:
    with any_database.write() as session, pytest.raises(InvalidInput) as error:
        staff.create_staff(
            session,
            site_id=1,
            username=username,
            display_name="王",
            password=password,
            role=StaffRole.STAFF,
            now=clock.now(),
        )
    assert error.value.details["field"] == field
