"""A centre's admin looking after the centre's staff accounts: adding a colleague, setting a
forgotten password, disabling a leaver and letting them back.

Until now only the operator's shell could (``linli staff …``), so a street office could not
stop a leaver signing in without calling whoever set the server up. Here an admin may touch
only the accounts whose home is the centre they work at, never their own (one wrong click
would lock them out) and never a district admin's (the district's business). Every change
is audited, and disabling or a new password ends the account's open sessions at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import NotFound, NotPermitted
from booking.people import staff
from booking.people.models.staff import StaffAccount, StaffRole


def _colleague(session: Session, by: StaffAccount, staff_id: int) -> StaffAccount:
    account = session.get(StaffAccount, staff_id, with_for_update=True)
    if account is None or account.site_id != by.working_site_id:
        raise NotFound("no such staff account at this centre", staff_id=staff_id)
    if account.id == by.id:
        raise NotPermitted("an admin does not change their own account here", reason="own")
    if account.is_district_admin:
        raise NotPermitted("a district admin's account is the district's", reason="district")
    return account


def _may_manage(by: StaffAccount) -> None:
    if not by.is_admin:
        raise NotPermitted("only the centre's admins look after its accounts", reason="not_admin")


def add_colleague(
    session: Session, *, by: StaffAccount, username: str, display_name: str, password: str,
    as_admin: bool, now: datetime,
) -> StaffAccount:  # fmt: skip
    """A new account whose home is the centre ``by`` works at; raises InvalidInput (the
    username's or the password's shape) or Conflict (the username is taken)."""
    _may_manage(by)
    account = staff.create_staff(
        session, site_id=by.working_site_id, username=username, display_name=display_name,
        password=password, role=StaffRole.ADMIN if as_admin else StaffRole.STAFF, now=now,
    )  # fmt: skip
    audit.record_staff(
        session, by, action="staff.account_added", now=now, subject=f"staff:{account.id}",
        detail={"username": account.username, "role": account.role.value},
    )  # fmt: skip
    return account


def set_password(
    session: Session, *, by: StaffAccount, staff_id: int, password: str, now: datetime
) -> StaffAccount:
    """A colleague's forgotten password replaced; their open sessions end."""
    _may_manage(by)
    account = _colleague(session, by, staff_id)
    staff.reset_password(session, staff_id=account.id, new=password, now=now)
    audit.record_staff(
        session, by, action="staff.password_set", now=now, subject=f"staff:{account.id}"
    )
    return account


def set_active(
    session: Session, *, by: StaffAccount, staff_id: int, active: bool, now: datetime
) -> StaffAccount:
    """Disable a colleague (their open sessions end at once) or let them sign in again."""
    _may_manage(by)
    account = _colleague(session, by, staff_id)
    staff.set_active(session, staff_id=account.id, active=active, now=now)
    audit.record_staff(
        session, by, action="staff.account_enabled" if active else "staff.account_disabled",
        now=now, subject=f"staff:{account.id}",
    )  # fmt: skip
    return account
