"""API tokens: made by an admin for one site, some scopes and a limited time, shown once,
kept hashed, revocable, and every use audited.

A token is 32 random bytes; its SHA-256 is enough to find and check it (a password hash
such as argon2 guards low-entropy secrets, which these are not, and would cost every API
call tens of milliseconds).

Every call a token makes passes here twice: the check, and the audit entry of its use. Both
were an ORM transaction of four statements, about a third of a kiosk API call's time under
cProfile (docs/benchmarks.md, fourteenth session); the check is now one read on the driver's
cursor and the entry one INSERT, and the token's ``last_used_at`` is written when it is a
minute old, as a staff session's ``last_seen_at`` is. That saved a tenth to a sixth of a
call's CPU. Revocation still counts at the next call.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import String, Table, bindparam, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.driver_sql import DriverInsert, DriverStatement
from booking.core.errors import InvalidInput, NotFound
from booking.core.models.audit import AuditEntry
from booking.people.models.api_tokens import ApiToken
from booking.people.models.staff import StaffAccount

# What a token may be allowed, each scope one kind of API call.
SCOPES = (
    "availability:read", "bookings:read", "bookings:write", "residents:read",
    # Tools: the catalogue and live availability; a resident's loans and reservations;
    # reserving, queueing, cancelling and renewing for a resident.
    "tools:read", "lending:read", "lending:write",
)  # fmt: skip
TOKEN_PREFIX = "linli_"
MAX_LIFETIME = timedelta(days=366)
MAX_NAME_LENGTH = 80
# Longer than any token we make: anything longer is not one of ours, and not hashed.
MAX_TOKEN_LENGTH = 100
# How old ``last_used_at`` may grow before a call writes it again: the console shows it to
# the minute, and a write on every call was most of a token's cost (module docstring).
LAST_USED_GRANULARITY = timedelta(minutes=1)
USE_ACTION = "api_token.used"
_AUDIT_LOG = cast(Table, AuditEntry.__table__)
_SUBJECT_LENGTH = cast(String, _AUDIT_LOG.c.subject.type).length


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    session: Session, *, staff: StaffAccount, name: str, scopes: Iterable[str],
    expires_at: datetime, now: datetime,
) -> tuple[ApiToken, str]:  # fmt: skip
    """Make a token for ``staff``'s site; returns it and its secret, which is never stored
    and cannot be shown again."""
    if not staff.is_admin:
        raise NotFound("only an admin makes API tokens")
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"name the token (1 to {MAX_NAME_LENGTH} characters)", field="name",
            reason="too_long", max_length=MAX_NAME_LENGTH,
        )  # fmt: skip
    chosen = sorted(set(scopes))
    if not chosen or any(scope not in SCOPES for scope in chosen):
        raise InvalidInput(
            "choose one or more of the known scopes", field="scopes", reason="token_scopes"
        )
    if not now < expires_at <= now + MAX_LIFETIME:
        raise InvalidInput(
            "the token expires after now and within a year", field="expires_at",
            reason="token_expiry",
        )  # fmt: skip
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        site_id=staff.working_site_id, name=name, scopes=chosen, token_hash=_hash(secret),
        prefix=secret[:12], created_by_staff_id=staff.id, created_at=now,
        expires_at=expires_at,
    )  # fmt: skip
    session.add(token)
    session.flush()
    audit.record_staff(
        session, staff, action="api_token.created", now=now, subject=f"api_token:{token.id}",
        detail={"name": name, "scopes": chosen, "expires_at": expires_at.isoformat()},
    )  # fmt: skip
    return token, secret


@dataclass(frozen=True)
class LiveToken:
    """What a call needs of the live token it came with, read without an ORM entity."""

    id: int
    site_id: int
    name: str
    scopes: tuple[str, ...]
    last_used_at: datetime | None


_LIVE_TOKEN = DriverStatement(
    select(
        ApiToken.id, ApiToken.site_id, ApiToken.name, ApiToken.scopes, ApiToken.last_used_at
    ).where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        ApiToken.expires_at > bindparam("now"),
    )
)
_USE_ENTRY = DriverInsert(
    _AUDIT_LOG, ("site_id", "at", "actor", "staff_id", "action", "subject", "detail")
)


def live_token(reads: Connection, *, secret: str, now: datetime) -> LiveToken | None:
    """The live token ``secret`` is, or None (unknown, expired or revoked alike): one read,
    on any connection (the request's read connection, which needs no transaction)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        return None
    rows = _LIVE_TOKEN.rows(reads, {"token_hash": _hash(secret), "now": now})
    if not rows:
        return None
    token_id, site_id, name, scopes, last_used_at = rows[0]
    return LiveToken(token_id, site_id, name, tuple(scopes), last_used_at)


def record_use(session: Session, token: LiveToken, *, what: str, now: datetime) -> None:
    """Each call a token makes is audited: which token, when, and which operation. The
    token's ``last_used_at`` is written once it is :data:`LAST_USED_GRANULARITY` old."""
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        stored = session.get(ApiToken, token.id)
        if stored is not None:
            stored.used(now)
            session.flush()
    _USE_ENTRY.insert_many(session.connection(), [(
        token.site_id, now, f"api_token:{token.id}", None, USE_ACTION,
        what[:_SUBJECT_LENGTH], {"name": token.name},
    )])  # fmt: skip


def revoke(session: Session, *, staff: StaffAccount, token_id: int, now: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id, with_for_update=True)
    if token is None or token.site_id != staff.working_site_id or not staff.is_admin:
        raise NotFound("no such API token")
    token.revoke(staff_id=staff.id, now=now)
    audit.record_staff(
        session, staff, action="api_token.revoked", now=now, subject=f"api_token:{token.id}",
        detail={"name": token.name},
    )  # fmt: skip
    return token


def tokens_of_site(session: Session, *, site_id: int) -> Sequence[ApiToken]:
    return session.scalars(
        select(ApiToken).where(ApiToken.site_id == site_id).order_by(ApiToken.created_at.desc())
    ).all()
