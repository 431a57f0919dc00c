"""Staff accounts: creation, password sign-in, password change and disabling."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import Conflict, InvalidInput, NotFound, StaffSignInFailed
from booking.people import auth_sessions, passwords
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


def authenticate_staff(session: Session, *, username: str, password: str) -> StaffAccount:
    """Unknown user, wrong password and disabled account all raise the same error."""
    account = session.scalar(
        select(StaffAccount).where(StaffAccount.username == username.strip().lower())
    )
    if account is None:
        passwords.burn_verification(password)
        raise StaffSignInFailed("username or password is wrong")
    if not passwords.verify_secret(account.password_hash, password) or not account.is_active:
        raise StaffSignInFailed("username or password is wrong")
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_secret(password)
    return account


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
