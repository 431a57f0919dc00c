"""Residents: registration and kiosk sign-in with phone and PIN."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import Conflict, InvalidInput, NotFound, SignInFailed
from booking.people import passwords, pin_policy, sign_in_guard, visits
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.sign_in_failures import SignInKind

# What a PIN typed at sign-in may look like: those set before the PIN policy have 4 or 5
# digits and still open, once (booking.people.pin_policy).
PIN_PATTERN = re.compile(r"^\d{4,6}$")
PHONE_PATTERN = re.compile(r"^1\d{10}$")


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"[\s-]", "", phone or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def register_resident(
    session: Session,
    *,
    site_id: int,
    name: str,
    phone: str,
    pin: str,
    now: datetime,
    card_id: str | None = None,
    is_elderly: bool = False,
    lives_alone: bool = False,
) -> Resident:
    """Create a resident and make them a member of ``site_id``."""
    name = name.strip()
    phone = normalise_phone(phone)
    if not name or len(name) > 60:
        raise InvalidInput("name must be 1 to 60 characters", field="name")
    if not PHONE_PATTERN.match(phone):
        raise InvalidInput("phone must be an 11-digit mainland mobile number", field="phone")
    pin_policy.check_new_pin(pin or "", phone=phone)
    clash = select(Resident.id).where(
        or_(Resident.phone == phone, Resident.card_id == card_id)
        if card_id
        else Resident.phone == phone
    )
    if session.scalar(clash) is not None:
        raise Conflict("a resident with this phone or card is already registered")
    resident = Resident(
        name=name,
        phone=phone,
        pin_hash=passwords.hash_secret(pin),
        card_id=card_id or None,
        is_elderly=is_elderly,
        lives_alone=lives_alone,
        created_at=now,
    )
    resident.memberships.append(ResidentMembership(site_id=site_id, joined_at=now))
    session.add(resident)
    session.flush()
    return resident


def authenticate_resident(
    session: Session, *, site_id: int, phone: str, pin: str, now: datetime, client: str
) -> Resident:
    """Check a phone and PIN at a kiosk of ``site_id``, typed at ``client`` (its address).

    Any resident of the district signs in at any of its centres with the same phone and PIN:
    at a centre other than their own they become its visitor (booking.people.visits).
    Unknown phone, wrong PIN and no account all raise the same :class:`SignInFailed`, and
    are counted and audited alike (booking.people.sign_in_guard, per account and client,
    never per centre), so the caller must commit even when this raises. A client that must
    wait gets :class:`TooManySignIns` before any PIN is checked.
    """
    phone = normalise_phone(phone)
    attempt = sign_in_guard.Attempt.of(SignInKind.RESIDENT, phone, client)
    sign_in_guard.check(session, attempt, now=now)

    resident = visits.of_the_district(session, phone)
    if resident is None or resident.pin_hash is None or not resident.is_active:
        # No such member, one who has not chosen a PIN yet (enrolled, or reset by staff), or
        # a deactivated account: the same verification time and the same answer as a wrong PIN.
        passwords.burn_verification(pin)
        ok = False
    else:
        ok = passwords.verify_secret(resident.pin_hash, pin)

    if ok and resident is not None and resident.pin_hash is not None:
        sign_in_guard.forget(session, attempt)
        visits.visit(session, resident=resident, site_id=site_id, now=now)
        if pin_policy.weakness(pin, phone=phone) is not None:
            # Set before the policy: it still opens, once, to choose a better one.
            resident.require_new_pin()
        elif passwords.needs_rehash(resident.pin_hash):
            resident.set_pin(passwords.hash_secret(pin))
        return resident

    sign_in_guard.record_failure(session, attempt, now=now, site_id=site_id)
    raise SignInFailed("phone or PIN is wrong")


def change_pin(
    session: Session, *, resident_id: int, site_id: int, new_pin: str, now: datetime
) -> Resident:
    """The signed-in resident chooses a new PIN at a kiosk of ``site_id``, under the policy;
    audited there (never the PIN)."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise NotFound("no such resident")
    pin_policy.check_new_pin(new_pin, phone=resident.phone)
    resident.set_pin(passwords.hash_secret(new_pin))
    audit.record(
        session, action="resident.pin_changed", actor=f"resident:{resident.id}", site_id=site_id,
        now=now, subject=f"resident:{resident.id}",
    )  # fmt: skip
    return resident


RESIDENT_PAGE_SIZE = 50
MAX_QUERY_LENGTH = 60


ACCOUNT_STATUSES = ("", "active", "deactivated")  # "" is every account


def _members_matching(site_id: int, query: str, status: str = "") -> Select[Resident]:
    stmt = select(Resident).join(ResidentMembership).where(ResidentMembership.site_id == site_id)
    if status not in ACCOUNT_STATUSES:
        raise InvalidInput("status is active, deactivated or empty", field="status")
    if status == "active":
        stmt = stmt.where(Resident.deactivated_at.is_(None))
    elif status == "deactivated":
        stmt = stmt.where(Resident.deactivated_at.is_not(None))
    query = query.strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"search text must be at most {MAX_QUERY_LENGTH} characters", field="q")
    if query:
        # Case-insensitive on every backend (SQLite's LIKE is, PostgreSQL's is not).
        # Escape LIKE wildcards so "_" or "%" typed by staff match themselves, not everything.
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        conditions = [
            Resident.name.ilike(like, escape="\\"),
            Resident.card_id.ilike(like, escape="\\"),
        ]
        # Phones are stored bare; "138 0000-0001" or "+86…" typed at the desk should still match.
        phone = normalise_phone(query)
        if phone.isdigit():
            conditions.append(Resident.phone.like(f"%{phone}%"))
        stmt = stmt.where(or_(*conditions))
    return stmt


def search_residents(
    session: Session,
    *,
    site_id: int,
    query: str = "",
    limit: int = RESIDENT_PAGE_SIZE,
    offset: int = 0,
    status: str = "",
) -> list[Resident]:
    """Members of a site whose name, phone or card id contains ``query``, by name; only the
    active or the deactivated accounts for a ``status`` of "active" or "deactivated"."""
    stmt = _members_matching(site_id, query, status)
    return list(
        session.scalars(stmt.order_by(Resident.name, Resident.id).limit(limit).offset(offset))
    )


def count_residents(session: Session, *, site_id: int, query: str = "", status: str = "") -> int:
    """How many members of a site :func:`search_residents` would find without a limit."""
    stmt = _members_matching(site_id, query, status).with_only_columns(func.count(Resident.id))
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True)
class ResidentPage:
    """One page of a resident search, with what page links need."""

    residents: list[Resident]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def resident_page(
    session: Session,
    *,
    site_id: int,
    query: str = "",
    page: int = 1,
    page_size: int = RESIDENT_PAGE_SIZE,
    status: str = "",
) -> ResidentPage:
    """Page ``page`` (from 1) of a resident search; a page past the end is simply empty."""
    if page < 1:
        raise InvalidInput("page must be 1 or more", field="page")
    total = count_residents(session, site_id=site_id, query=query, status=status)
    found = search_residents(
        session,
        site_id=site_id,
        query=query,
        limit=page_size,
        offset=(page - 1) * page_size,
        status=status,
    )
    return ResidentPage(residents=found, page=page, page_size=page_size, total=total)


def get_member(session: Session, *, site_id: int, resident_id: int) -> Resident:
    """A resident who is a member of ``site_id``; others are as good as absent."""
    resident = session.scalar(
        select(Resident)
        .join(ResidentMembership)
        .where(Resident.id == resident_id, ResidentMembership.site_id == site_id)
    )
    if resident is None:
        raise NotFound("no such resident at this centre")
    return resident
