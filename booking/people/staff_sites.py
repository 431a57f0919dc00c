"""The centres a member of staff works at: their home centre, the centres a district admin
granted them, and, for a district admin, every centre of the deployment.

The console's current centre is kept on its sign-in (``StaffSession.site_id``) and checked
here on every request, so a grant revoked ends that centre's console at the next click.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.driver_sql import DriverStatement
from booking.core.errors import Conflict, NotFound, NotPermitted
from booking.core.models.sites import Site
from booking.people import auth_sessions
from booking.people.auth_sessions import token_hash
from booking.people.models.staff import StaffAccount, StaffRole
from booking.people.models.staff_sessions import StaffSession
from booking.people.models.staff_site_access import StaffSiteAccess


def admin_at(session: Session, *, staff: StaffAccount, site_id: int) -> bool | None:
    """Whether ``staff`` manages ``site_id`` (True) or only works there (False); None when it
    may not work there at all. At home the home role decides, elsewhere the grant's role."""
    if site_id == staff.site_id:
        return staff.role is not StaffRole.STAFF
    if staff.is_district_admin:
        return True if session.get(Site, site_id) is not None else None
    return session.scalar(
        select(StaffSiteAccess.as_admin).where(
            StaffSiteAccess.staff_id == staff.id, StaffSiteAccess.site_id == site_id
        )
    )


def may_work_at(session: Session, *, staff: StaffAccount, site_id: int) -> bool:
    """Whether ``staff`` may open the console at ``site_id``."""
    return admin_at(session, staff=staff, site_id=site_id) is not None


def work_there(session: Session, *, staff: StaffAccount, site_id: int) -> bool:
    """Make ``staff`` act at ``site_id`` with the role it has there (StaffAccount.work_at);
    False, changing nothing, when it may not work there."""
    as_admin = admin_at(session, staff=staff, site_id=site_id)
    if as_admin is None:
        return False
    staff.work_at(site_id, as_admin=as_admin)
    return True


def work_sites(session: Session, *, staff: StaffAccount) -> list[Site]:
    """Every centre ``staff`` may work at, the home centre first, then by slug."""
    query = select(Site).order_by(Site.slug)
    if not staff.is_district_admin:
        query = query.where(
            (Site.id == staff.site_id)
            | Site.id.in_(
                select(StaffSiteAccess.site_id).where(StaffSiteAccess.staff_id == staff.id)
            )
        )
    found = list(session.scalars(query))
    return sorted(found, key=lambda site: site.id != staff.site_id)


def granted_sites(session: Session, *, staff_id: int) -> list[tuple[Site, bool]]:
    """The centres granted to an account besides its home centre, by slug, each with whether
    the account manages it there."""
    return [
        (site, as_admin)
        for site, as_admin in session.execute(
            select(Site, StaffSiteAccess.as_admin)
            .join(StaffSiteAccess, StaffSiteAccess.site_id == Site.id)
            .where(StaffSiteAccess.staff_id == staff_id)
            .order_by(Site.slug)
        )
    ]


# The grant of the sign-in's chosen centre to its account: its role there, NULL for none.
_GRANT_ROLE = (
    select(StaffSiteAccess.as_admin)
    .where(
        StaffSiteAccess.staff_id == StaffSession.staff_id,
        StaffSiteAccess.site_id == StaffSession.site_id,
    )
    .scalar_subquery()
)
# Built once, run on the driver's cursor: every console and API request reads its centre
# (building the statement each time was a fifth of a signed-in API read, docs/benchmarks.md).
_WORKPLACE = DriverStatement(
    select(StaffSession.site_id, _GRANT_ROLE).where(
        StaffSession.token_hash == bindparam("token_hash"),
        StaffSession.staff_id == bindparam("staff_id"),
    )
)
# Whether the account has a grant at all: staff of one centre (most of them) then need no
# read of their centres for the header's switcher (kiosk/staff/site_switch.py).
_GRANTED_ELSEWHERE = (
    select(StaffSiteAccess.id).where(StaffSiteAccess.staff_id == StaffAccount.id).exists()
)
# The sign-in check, the centre and whether there are others, in one statement, for the
# common case (a session used within the last minute): one round trip per request.
_RECENTLY_SEEN_AT_WORK = DriverStatement(
    select(*auth_sessions.STAFF_COLUMNS, StaffSession.site_id, _GRANT_ROLE, _GRANTED_ELSEWHERE)
    .join(StaffSession, StaffSession.staff_id == StaffAccount.id)
    .where(*auth_sessions.RECENTLY_SEEN_CRITERIA)
)


def _workplace(
    staff: StaffAccount, chosen: int | None, grant_as_admin: bool | None
) -> tuple[int, bool]:
    """Where a sign-in that chose ``chosen`` works, and whether it manages it there."""
    if chosen is None or chosen == staff.site_id:
        return staff.site_id, staff.role is not StaffRole.STAFF
    # A district admin's choice needs no grant; the foreign key empties it if the site goes.
    if staff.is_district_admin:
        return chosen, True
    if grant_as_admin is None:  # the grant went: home again
        return staff.site_id, staff.role is not StaffRole.STAFF
    return chosen, bool(grant_as_admin)


def console_workplace(
    reads: Session | Connection, *, staff: StaffAccount, token: str
) -> tuple[int, bool]:
    """The centre the sign-in ``token`` of ``staff`` works at, and whether it manages it
    there: the centre it switched to while the account may still work there, else the home
    centre. One read (``reads`` may be the request's bare read connection)."""
    connection = reads if isinstance(reads, Connection) else reads.connection()
    rows = _WORKPLACE.rows(connection, {"token_hash": token_hash(token), "staff_id": staff.id})
    chosen, grant_as_admin = rows[0] if rows else (None, None)
    return _workplace(staff, chosen, grant_as_admin)


def recently_seen_at_work(
    reads: Session | Connection, *, token: str, now: datetime
) -> StaffAccount | None:
    """The account of a sign-in used within the last minute (``auth_sessions.
    RECENTLY_SEEN_CRITERIA``), detached and already working at the sign-in's current
    centre with its role there (:func:`console_workplace`) and told whether any other
    centre is granted to it, in one statement. None means "ask the full check", as there.
    Read on every request: revocations and grants count at once."""
    if not token:
        return None
    connection = reads if isinstance(reads, Connection) else reads.connection()
    rows = _RECENTLY_SEEN_AT_WORK.rows(connection, auth_sessions.recently_seen_params(token, now))
    if not rows:
        return None
    *values, chosen, grant_as_admin, granted_elsewhere = rows[0]
    account = auth_sessions.detached_staff(values)
    site_id, as_admin = _workplace(account, chosen, grant_as_admin)
    account.work_at(site_id, as_admin=as_admin)
    account.granted_elsewhere(bool(granted_elsewhere))
    return account


def console_site_id(reads: Session | Connection, *, staff: StaffAccount, token: str) -> int:
    """The centre the sign-in ``token`` of ``staff`` works at (:func:`console_workplace`)."""
    return console_workplace(reads, staff=staff, token=token)[0]


def switch_site(
    session: Session, *, staff: StaffAccount, token: str, site_id: int, now: datetime
) -> Site:
    """Make ``site_id`` the current centre of the sign-in ``token``; audited at both centres
    (where the worker left and where they arrived). Refused, changing nothing, when the
    account may not work there."""
    site = session.get(Site, site_id)
    if site is None or not may_work_at(session, staff=staff, site_id=site_id):
        raise NotPermitted("this account does not work at that centre", site_id=site_id)
    row = session.get(StaffSession, token_hash(token))
    if row is None or row.staff_id != staff.id or row.ended_at is not None:
        raise NotFound("no such sign-in")
    left = row.site_id or staff.site_id
    row.work_at(None if site_id == staff.site_id else site_id)
    for at in sorted({left, site_id}):
        audit.record(
            session, action="staff.site_switched", actor=audit.staff_actor(staff), now=now,
            site_id=at, staff_id=staff.id, subject=f"site:{site_id}",
            detail={"from_site": session.get_one(Site, left).slug, "to_site": site.slug},
        )  # fmt: skip
    return site


# Who grants from the command line: whoever runs ``linli staff`` runs the deployment.
COMMAND_LINE = "system:cli"


def _district_admin(by: StaffAccount | None) -> tuple[str, int | None]:
    """The audit's actor and staff id for ``by`` (None: the command line), if it may grant."""
    if by is None:
        return COMMAND_LINE, None
    if not by.is_district_admin:
        raise NotPermitted("only a district admin grants or revokes other centres")
    return audit.staff_actor(by), by.id


def grant_site(
    session: Session,
    *,
    by: StaffAccount | None,
    staff_id: int,
    site_id: int,
    now: datetime,
    as_admin: bool = False,
) -> StaffSiteAccess:
    """Let ``staff_id`` work at ``site_id`` too, managing it there when ``as_admin`` (its
    home role does not carry over). Granting again with the other role changes the grant's
    role. Only a district admin (or the command line, ``by`` None) may."""
    actor, by_id = _district_admin(by)
    account = session.get(StaffAccount, staff_id)
    if account is None:
        raise NotFound("no such staff account")
    if session.get(Site, site_id) is None:
        raise NotFound("no such centre")
    if account.is_district_admin:
        raise Conflict("a district admin works at every centre already", reason="district_admin")
    if site_id == account.site_id:
        raise Conflict("this is the account's home centre", reason="home_centre")
    grant = session.scalar(
        select(StaffSiteAccess)
        .where(StaffSiteAccess.staff_id == staff_id, StaffSiteAccess.site_id == site_id)
        .with_for_update()
    )
    if grant is not None and grant.as_admin == as_admin:
        raise Conflict("this account works at that centre already")
    slug = session.get_one(Site, site_id).slug
    if grant is None:
        grant = StaffSiteAccess(
            staff_id=staff_id, site_id=site_id, granted_by=by_id, granted_at=now, as_admin=as_admin
        )
        session.add(grant)
    else:
        grant.change_role(as_admin=as_admin, by=by_id, now=now)
    session.flush()
    audit.record(
        session, action="staff.site_granted", actor=actor, now=now,
        site_id=site_id, staff_id=by_id, subject=f"staff:{account.username}",
        detail={"site": slug, "as_admin": as_admin},
    )  # fmt: skip
    return grant


def revoke_site(
    session: Session, *, by: StaffAccount | None, staff_id: int, site_id: int, now: datetime
) -> None:
    """Stop ``staff_id`` working at ``site_id``; its consoles there go back to the home centre
    on their next request. Only a district admin (or the command line, ``by`` None) may."""
    actor, by_id = _district_admin(by)
    account = session.get(StaffAccount, staff_id)
    if account is None:
        raise NotFound("no such staff account")
    removed = session.execute(
        delete(StaffSiteAccess).where(
            StaffSiteAccess.staff_id == staff_id, StaffSiteAccess.site_id == site_id
        )
    )
    if not getattr(removed, "rowcount", 0):
        raise NotFound("this account has no grant for that centre")
    # Its consoles at that centre would go home anyway (console_site_id checks); emptied so
    # that a grant given again later does not reopen them there unasked.
    for row in session.scalars(
        select(StaffSession).where(
            StaffSession.staff_id == staff_id, StaffSession.site_id == site_id
        )
    ):
        row.work_at(None)
    audit.record(
        session, action="staff.site_revoked", actor=actor, now=now,
        site_id=site_id, staff_id=by_id, subject=f"staff:{account.username}",
        detail={"site": session.get_one(Site, site_id).slug},
    )  # fmt: skip
