"""Staff accounts: creation, password sign-in, password change and disabling."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import Conflict, InvalidInput, NotFound, StaffSignInFailed
from booking.people import auth_sessions, passwords, sign_in_guard
from booking.people.models.sign_in_failures import SignInKind
from booking.people.models.staff import StaffAccount, StaffRole

USERNAME_PATTERN = re.compile(r"^[a-z0-9_.-]{3,40}$")
MIN_PASSWORD_LENGTH = 10


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or len(password) > 200:
        raise InvalidInput(
            f"password must be {MIN_PASSWORD_LENGTH} to 200 characters", field="password"
        )


def create_staff(
    session: Session,
    *,
    site_id: int,
    username: str,
    display_name: str,
    password: str,
    role: StaffRole,
    now: datetime,
) -> StaffAccount:
    username = username.strip().lower()
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("username must be 3-40 of a-z, 0-9, _ . -", field="username")
    if not display_name.strip():
        raise InvalidInput("display name is required", field="display_name")
    _check_password(password)
    if session.scalar(select(StaffAccount.id).where(StaffAccount.username == username)):
        raise Conflict("this username is taken")
    account = StaffAccount(
        site_id=site_id,
        username=username,
        display_name=display_name.strip(),
        password_hash=passwords.hash_secret(password),
        role=role,
        is_active=True,
        created_at=now,
        password_changed_at=now,
    )
    session.add(account)
    session.flush()
    return account


def authenticate_staff(
    session: Session, *, username: str, password: str, now: datetime, client: str,
    site_id: int | None = None,
) -> StaffAccount:  # fmt: skip
    """Check a username and password typed at ``client`` (its address).

    Unknown user, wrong password and disabled account all raise the same error, and are
    counted (booking.people.sign_in_guard) and audited alike, at the account's site or, for
    an unknown name, at ``site_id`` (this deployment's own); the caller must commit even when
    this raises. A client that must wait gets :class:`TooManySignIns` before any password is
    checked.
    """
    name = username.strip().lower()
    attempt = sign_in_guard.Attempt.of(SignInKind.STAFF, name, client)
    sign_in_guard.check(session, attempt, now=now)
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == name))
    if account is None:
        passwords.burn_verification(password)
    elif passwords.verify_secret(account.password_hash, password) and account.is_active:
        sign_in_guard.forget(session, attempt)
        if passwords.needs_rehash(account.password_hash):
            account.password_hash = passwords.hash_secret(password)
        return account
    sign_in_guard.record_failure(
        session, attempt, now=now, site_id=account.site_id if account is not None else site_id
    )
    raise StaffSignInFailed("username or password is wrong")


def change_password(
    session: Session, *, staff_id: int, current: str, new: str, now: datetime
) -> StaffAccount:
    """Change a password and end every session of the account, this one included."""
    account = session.get(StaffAccount, staff_id)
    if account is None:
        raise NotFound("no such staff account")
    if not passwords.verify_secret(account.password_hash, current):
        raise StaffSignInFailed("current password is wrong")
    _check_password(new)
    account.password_hash = passwords.hash_secret(new)
    account.password_changed_at = now
    auth_sessions.end_all_staff_sessions(
        session, staff_id=staff_id, now=now, reason="password_changed"
    )
    return account


def get_staff_by_username(session: Session, username: str) -> StaffAccount:
    account = session.scalar(
        select(StaffAccount).where(StaffAccount.username == username.strip().lower())
    )
    if account is None:
        raise NotFound(f"no staff account {username!r}")
    return account


def reset_password(session: Session, *, staff_id: int, new: str, now: datetime) -> StaffAccount:
    """Set a password without knowing the old one (the operator's CLI); ends every session."""
    account = session.get(StaffAccount, staff_id)
    if account is None:
        raise NotFound("no such staff account")
    _check_password(new)
    account.password_hash = passwords.hash_secret(new)
    account.password_changed_at = now
    auth_sessions.end_all_staff_sessions(
        session, staff_id=staff_id, now=now, reason="password_reset"
    )
    return account


def set_active(session: Session, *, staff_id: int, active: bool, now: datetime) -> StaffAccount:
    account = session.get(StaffAccount, staff_id)
    if account is None:
        raise NotFound("no such staff account")
    account.is_active = active
    if not active:
        auth_sessions.end_all_staff_sessions(session, staff_id=staff_id, now=now, reason="disabled")
    return account
