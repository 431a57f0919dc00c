"""API tokens: made by an admin for one site, some scopes and a limited time, shown once,
kept hashed, revocable, and every use audited.

A token is 32 random bytes; its SHA-256 is enough to find and check it (a password hash
such as argon2 guards low-entropy secrets, which these are not, and would cost every API
call tens of milliseconds).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import InvalidInput, NotFound
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
        raise InvalidInput(f"name the token (1 to {MAX_NAME_LENGTH} characters)", field="name")
    chosen = sorted(set(scopes))
    if not chosen or any(scope not in SCOPES for scope in chosen):
        raise InvalidInput("choose one or more of the known scopes", field="scopes")
    if not now < expires_at <= now + MAX_LIFETIME:
        raise InvalidInput("the token expires after now and within a year", field="expires_at")
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


def usable_token(session: Session, *, secret: str, now: datetime) -> ApiToken | None:
    """The live token ``secret`` is, or None (unknown, expired or revoked alike)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > MAX_TOKEN_LENGTH:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or not token.is_usable(now):
        return None
    return token


def record_use(session: Session, token: ApiToken, *, what: str, now: datetime) -> None:
    """Each call a token makes is audited: which token, when, and which operation."""
    token.used(now)
    audit.record(
        session, action="api_token.used", actor=f"api_token:{token.id}", site_id=token.site_id,
        now=now, subject=what[:200], detail={"name": token.name},
    )  # fmt: skip


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
