"""Server-side sign-in sessions for staff (console) and residents (kiosk).

The cookie carries a random token; the database keeps only its SHA-256. A session
ends on sign-out, after inactivity, or when the account changes (password, disabled).

Ours rather than a library's: Flask's signed-cookie session cannot be revoked (a copied
cookie works until it expires, whatever the account does), and Flask-Session or Flask-Login
would add a second store or a second notion of the signed-in user beside the one that the
kiosk, the console and the API already share here, with its inactivity limit per area and
its end when a password changes or an account is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, make_transient_to_detached

from booking.core.db import UTCDateTime
from booking.core.driver_sql import DriverStatement
from booking.core.errors import NotFound, SessionExpired
from booking.core.models.sites import Site
from booking.people.models.resident_sessions import ResidentSession, SessionChannel
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from booking.people.models.staff_sessions import StaffSession

STAFF_IDLE_LIMIT = timedelta(minutes=30)


def token_hash(token: str) -> str:
    """What is stored of a sign-in token (its SHA-256), never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


_hash = token_hash


def start_staff_session(session: Session, *, staff: StaffAccount, now: datetime) -> str:
    """Open a console session and return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(token_hash=_hash(token), staff_id=staff.id, created_at=now, last_seen_at=now)
    )
    session.flush()
    return token


def resume_staff_session(
    session: Session, *, token: str, now: datetime, idle_limit: timedelta = STAFF_IDLE_LIMIT
) -> StaffAccount:
    """The account behind a live token; marks it seen. Raises :class:`SessionExpired` otherwise."""
    row = session.get(StaffSession, _hash(token)) if token else None
    if row is None or row.ended_at is not None:
        raise SessionExpired("not signed in")
    if now - row.last_seen_at > idle_limit:
        row.ended_at = now
        row.end_reason = "idle"
        raise SessionExpired("signed out after inactivity")
    account = session.get(StaffAccount, row.staff_id)
    if account is None or not account.is_active:
        row.ended_at = now
        row.end_reason = "disabled"
        raise SessionExpired("account disabled")
    row.last_seen_at = now
    return account


# A session used again within this long is not marked seen again: most requests then need
# no write at all (one writer per row was the API's bottleneck, docs/benchmarks.md). The
# idle count may so start up to this much before the true last use.
SEEN_GRANULARITY = timedelta(minutes=1)


# A live session marked seen less than SEEN_GRANULARITY ago, of an active account.
RECENTLY_SEEN_CRITERIA = (
    StaffSession.token_hash == bindparam("token_hash"),
    StaffSession.ended_at.is_(None),
    StaffSession.last_seen_at > bindparam("seen_after", type_=UTCDateTime),
    StaffAccount.is_active.is_(True),
)

# Built once: every console and API request runs it (see bench/api_load.py).
_RECENTLY_SEEN_STAFF = (
    select(StaffAccount)
    .join(StaffSession, StaffSession.staff_id == StaffAccount.id)
    .where(*RECENTLY_SEEN_CRITERIA)
)

# The same read as plain columns on the driver's cursor, for the API's every request.
STAFF_FIELDS = tuple(attribute.key for attribute in sa_inspect(StaffAccount).column_attrs)
STAFF_COLUMNS = tuple(getattr(StaffAccount, field) for field in STAFF_FIELDS)
_STAFF_CLASS = sa_inspect(StaffAccount).class_manager


def recently_seen_params(token: str, now: datetime) -> dict[str, object]:
    """The parameters of :data:`RECENTLY_SEEN_CRITERIA` for ``token`` at ``now``."""
    return {"token_hash": _hash(token), "seen_after": now - SEEN_GRANULARITY}


def recently_seen_staff(session: Session, *, token: str, now: datetime) -> StaffAccount | None:
    """The account behind a live token marked seen less than :data:`SEEN_GRANULARITY` ago,
    found in one read; None means "ask :func:`resume_staff_session`", which decides."""
    if not token:
        return None
    return session.scalar(_RECENTLY_SEEN_STAFF, recently_seen_params(token, now))


def detached_staff(values: Sequence[object]) -> StaffAccount:
    """An account from the values of :data:`STAFF_COLUMNS`, detached (in no session, every
    column loaded, as if expunged)."""
    # As the ORM's loader makes an instance (no __init__, the row's values put in place,
    # a third of the cost), then detached with its identity: the state an expunged one has.
    account: StaffAccount = _STAFF_CLASS.new_instance()
    account.__dict__.update(zip(STAFF_FIELDS, values, strict=True))
    make_transient_to_detached(account)
    return account


def live_staff(
    session: Session, *, token: str, now: datetime, idle_limit: timedelta = STAFF_IDLE_LIMIT
) -> StaffAccount | None:
    """The account a token still signs in, read only: the session not ended, not idle past
    ``idle_limit``, the account active. Unlike :func:`resume_staff_session` it does not count
    as use, so what a page does by itself (the device board's refresh, the alerts stream)
    never keeps a session alive that nobody is using."""
    if not token:
        return None
    return session.scalar(
        select(StaffAccount)
        .join(StaffSession, StaffSession.staff_id == StaffAccount.id)
        .where(
            StaffSession.token_hash == _hash(token),
            StaffSession.ended_at.is_(None),
            StaffSession.last_seen_at >= now - idle_limit,
            StaffAccount.is_active.is_(True),
        )
    )


def staff_session_is_live(
    session: Session, *, token: str, now: datetime, idle_limit: timedelta = STAFF_IDLE_LIMIT
) -> bool:
    """Whether a token still signs its account in, read only (a long-lived response, such as
    the alerts stream, re-checks with it: signed out, disabled, password changed → False)."""
    return live_staff(session, token=token, now=now, idle_limit=idle_limit) is not None


def end_staff_session(
    session: Session, *, token: str, now: datetime, reason: str = "signed_out"
) -> None:
    row = session.get(StaffSession, _hash(token)) if token else None
    if row is not None and row.ended_at is None:
        row.ended_at = now
        row.end_reason = reason


def end_all_staff_sessions(session: Session, *, staff_id: int, now: datetime, reason: str) -> int:
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def end_all_resident_sessions(
    session: Session, *, resident_id: int, now: datetime, reason: str
) -> int:
    """End every live kiosk sign-in of a resident (their PIN was reset: whoever knew the old
    one and is signed in with it is signed out too); returns how many ended."""
    result = session.execute(
        update(ResidentSession)
        .where(ResidentSession.resident_id == resident_id, ResidentSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def start_resident_session(
    session: Session, *, resident: Resident, site_id: int, now: datetime,
    channel: SessionChannel = SessionChannel.KIOSK,
) -> str:  # fmt: skip
    """Open a resident's sign-in at a kiosk or on their phone; the token is for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        ResidentSession(
            token_hash=_hash(token),
            resident_id=resident.id,
            site_id=site_id,
            channel=channel,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return token


def resume_resident_session(
    session: Session, *, token: str, now: datetime, idle_limit: timedelta,
    channel: SessionChannel = SessionChannel.KIOSK,
) -> tuple[Resident, int]:  # fmt: skip
    """The resident and site behind a live token made on ``channel``; marks it seen. A token
    from the other channel is refused: a kiosk's minute must not become a phone's month."""
    row = session.get(ResidentSession, _hash(token)) if token else None
    if row is None or row.ended_at is not None or row.channel is not channel:
        raise SessionExpired("not signed in")
    if now - row.last_seen_at > idle_limit:
        row.ended_at = now
        row.end_reason = "idle"
        raise SessionExpired("signed out after inactivity")
    resident = session.get(Resident, row.resident_id)
    if resident is None or not resident.is_active:
        raise SessionExpired("not signed in")
    row.last_seen_at = now
    return resident, row.site_id


def resident_seen_granularity(idle_limit: timedelta) -> timedelta:
    """How long after being marked seen a resident's session resumes without a write: a
    twelfth of its idle limit (5 s of the kiosk's minute, so it never ends much early) and
    at most :data:`SEEN_GRANULARITY` (the phone's month)."""
    return min(SEEN_GRANULARITY, idle_limit / 12)


def recently_seen_resident(
    session: Session, *, token: str, now: datetime, idle_limit: timedelta,
    channel: SessionChannel = SessionChannel.KIOSK,
) -> tuple[Resident, int] | None:  # fmt: skip
    """The resident and site behind a live token made on ``channel`` and marked seen within
    :func:`resident_seen_granularity`, in one read and no write (every signed-in kiosk and
    phone request wrote ``last_seen_at`` and so took the database's write lock). Still read
    on every request: a session ended or an account deactivated is refused at once. None
    means "ask :func:`resume_resident_session`", which decides and marks it seen."""
    if not token:
        return None
    found = session.execute(
        select(Resident, ResidentSession.site_id)
        .join(ResidentSession, ResidentSession.resident_id == Resident.id)
        .where(
            ResidentSession.token_hash == _hash(token),
            ResidentSession.ended_at.is_(None),
            ResidentSession.channel == channel,
            ResidentSession.last_seen_at > now - resident_seen_granularity(idle_limit),
            Resident.deactivated_at.is_(None),
        )
    ).first()
    return None if found is None else (found[0], found[1])


# The kiosk's every signed-in request runs this: as plain columns on the driver's cursor,
# the resident built as the ORM's loader builds one, like the staff check above (the ORM
# query was the larger part of a signed-in kiosk request's own work; docs/benchmarks.md).
_RESIDENT_FIELDS = tuple(attribute.key for attribute in sa_inspect(Resident).column_attrs)
_RESIDENT_CLASS = sa_inspect(Resident).class_manager
_RESIDENT_ID = _RESIDENT_FIELDS.index("id")
_RECENTLY_SEEN_RESIDENT_ROW = DriverStatement(
    select(ResidentSession.site_id, *(getattr(Resident, field) for field in _RESIDENT_FIELDS))
    .join(ResidentSession, ResidentSession.resident_id == Resident.id)
    .where(
        ResidentSession.token_hash == bindparam("token_hash"),
        ResidentSession.ended_at.is_(None),
        ResidentSession.channel == bindparam("channel"),
        ResidentSession.last_seen_at > bindparam("seen_after", type_=UTCDateTime),
        Resident.deactivated_at.is_(None),
    )
)


# The same read with the kiosk's own site in front, in one statement: a signed-in kiosk request
# read its site and then its resident, two round trips, the larger part of its database time
# on PostgreSQL (bench/kiosk_home.py). The site is a row whatever the token; the resident's
# columns are NULL when the token is no live session of the channel.
_LIVE_SESSION = (
    (ResidentSession.token_hash == bindparam("token_hash"))
    & ResidentSession.ended_at.is_(None)
    & (ResidentSession.channel == bindparam("channel"))
    & (ResidentSession.last_seen_at > bindparam("seen_after", type_=UTCDateTime))
)
_SITE_AND_RECENTLY_SEEN_RESIDENT = DriverStatement(
    select(
        Site.id, Site.slug, Site.name_zh, Site.name_en, Site.timezone, ResidentSession.site_id,
        *(getattr(Resident, field) for field in _RESIDENT_FIELDS),
    )
    .select_from(Site)
    .outerjoin(ResidentSession, _LIVE_SESSION)
    .outerjoin(
        Resident,
        (Resident.id == ResidentSession.resident_id) & Resident.deactivated_at.is_(None),
    )
    .where(Site.slug == bindparam("slug"))
)  # fmt: skip


def site_and_recently_seen_resident(
    connection: Connection, *, slug: str, token: str, now: datetime, idle_limit: timedelta,
    channel: SessionChannel = SessionChannel.KIOSK,
) -> tuple[tuple[int, str, str, str, str], tuple[Resident, int] | None]:  # fmt: skip
    """The site ``slug`` as :func:`booking.core.sites.site_names_by_slug` gives it, and what
    :func:`recently_seen_resident_detached` gives for ``token``, in one read. Raises
    NotFound when there is no such site."""
    rows = _SITE_AND_RECENTLY_SEEN_RESIDENT.rows(
        connection,
        {
            "slug": slug,
            "token_hash": _hash(token),
            "channel": channel,
            "seen_after": now - resident_seen_granularity(idle_limit),
        },
    )
    if not rows:
        raise NotFound(f"no site {slug!r}")
    site_id, found_slug, name_zh, name_en, timezone, session_site_id, *values = rows[0]
    site = (site_id, found_slug, name_zh, name_en, timezone)
    # The resident's id is NULL both with no live session and with a deactivated account.
    if session_site_id is None or values[_RESIDENT_ID] is None:
        return site, None
    return site, (_detached_resident(values), session_site_id)


def recently_seen_resident_detached(
    connection: Connection, *, token: str, now: datetime, idle_limit: timedelta,
    channel: SessionChannel = SessionChannel.KIOSK,
) -> tuple[Resident, int] | None:  # fmt: skip
    """:func:`recently_seen_resident` on a bare connection, the resident detached (in no
    session, every column loaded, as if expunged). Still read on every call: a session
    ended or an account deactivated is refused at once."""
    if not token:
        return None
    rows = _RECENTLY_SEEN_RESIDENT_ROW.rows(
        connection,
        {
            "token_hash": _hash(token),
            "channel": channel,
            "seen_after": now - resident_seen_granularity(idle_limit),
        },
    )
    if not rows:
        return None
    site_id, *values = rows[0]
    return _detached_resident(values), site_id


def _detached_resident(values: Sequence[object]) -> Resident:
    """A resident built from its columns as the ORM's loader builds one, then detached."""
    resident: Resident = _RESIDENT_CLASS.new_instance()
    resident.__dict__.update(zip(_RESIDENT_FIELDS, values, strict=True))
    make_transient_to_detached(resident)
    return resident


def end_resident_session(
    session: Session, *, token: str, now: datetime, reason: str = "signed_out"
) -> None:
    row = session.get(ResidentSession, _hash(token)) if token else None
    if row is not None and row.ended_at is None:
        row.ended_at = now
        row.end_reason = reason
