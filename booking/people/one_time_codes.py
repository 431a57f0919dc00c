"""One-time codes: how a resident chooses a PIN that staff never see.

Staff enrol a resident, or reset a forgotten PIN after checking who the resident is, and a
code is printed on a slip. At the kiosk the resident types their phone and the code
(:func:`check_code`), then a PIN twice (:func:`redeem_code`), and is signed in.

- Eight digits: the kiosk's number keys type them, and they read aloud without an O/0 or
  I/1 to confuse. 10^8 codes against a throttle that allows a client some hundred guesses
  a day for one phone (booking.people.sign_in_guard, which counts a wrong code exactly as a
  wrong PIN, on the same account) leaves a guesser about one chance in a million.
- Valid for :data:`CODE_LIFETIME` from issue, by the injected clock; used once; a new code
  for the resident voids the one before it.
- Kept only as an argon2id hash, like a PIN: a copy of the database yields no live code.
  One code is verified per try (the resident's latest), so a try costs one hash whether
  the phone is known or not.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import DomainError, NotFound, SignInFailed
from booking.people import auth_sessions, passwords, pin_policy, sign_in_guard, visits
from booking.people.account_errors import AccountStateWrong
from booking.people.models.memberships import ResidentMembership
from booking.people.models.resident_codes import CodePurpose, ResidentCode
from booking.people.models.residents import Resident
from booking.people.models.sign_in_failures import SignInKind
from booking.people.residents import normalise_phone

CODE_LENGTH = 8
CODE_LIFETIME = timedelta(hours=24)
CODE_PATTERN = re.compile(rf"^\d{{{CODE_LENGTH}}}$")


class CodeExpired(DomainError):
    """The right code, but its day is over: staff print a new slip."""

    code = "code_expired"
    status = 410


class CodeUsed(DomainError):
    """The right code, already used to choose a PIN, or replaced by a newer slip
    (``details["replaced"]``)."""

    code = "code_used"
    status = 409


@dataclass(frozen=True)
class IssuedCode:
    """A code as it leaves the server: the only moment it exists in clear."""

    code: str
    code_id: int
    resident_id: int
    purpose: CodePurpose
    expires_at: datetime

    @property
    def spaced(self) -> str:
        """Four and four, as a slip prints it and a person reads it aloud: 3816 0472."""
        return f"{self.code[:4]} {self.code[4:]}"


def normalise_code(text: str) -> str:
    """A code as typed or read off the slip: spaces and dashes between the digits ignored."""
    return re.sub(r"[\s-]", "", text or "")


def issue_code(
    session: Session,
    *,
    resident_id: int,
    site_id: int,
    purpose: CodePurpose,
    now: datetime,
    actor: str,
    staff_id: int | None = None,
) -> IssuedCode:
    """A new code for a member of ``site_id``, valid for :data:`CODE_LIFETIME`; the
    resident's unused codes are voided. For :attr:`CodePurpose.PIN_RESET` the PIN stops
    working at once and the resident's kiosk sign-ins end. Audited as ``actor``, never
    with the code. :class:`NotFound` for a resident who is not a member here."""
    resident = session.scalar(
        select(Resident)
        .join(ResidentMembership)
        .where(Resident.id == resident_id, ResidentMembership.site_id == site_id)
    )
    if resident is None:
        raise NotFound("no such resident at this centre")
    if not resident.is_active:
        raise AccountStateWrong("a deactivated account gets no code; reactivate it first")
    void_unused(session, resident_id=resident_id, now=now)
    if purpose is CodePurpose.PIN_RESET:
        resident.clear_pin()
        auth_sessions.end_all_resident_sessions(
            session, resident_id=resident_id, now=now, reason="pin_reset"
        )
    code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
    row = ResidentCode(
        resident_id=resident_id, site_id=site_id, purpose=purpose,
        code_hash=passwords.hash_secret(code), issued_at=now, expires_at=now + CODE_LIFETIME,
        issued_by_staff_id=staff_id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, action=f"resident.code_issued.{purpose.value}", actor=actor, staff_id=staff_id,
        site_id=site_id, now=now, subject=f"resident:{resident_id}",
        detail={"purpose": purpose.value, "expires_at": row.expires_at.isoformat()},
    )  # fmt: skip
    return IssuedCode(code, row.id, resident_id, purpose, row.expires_at)


def void_unused(session: Session, *, resident_id: int, now: datetime) -> None:
    """Void the resident's codes not yet used: a new one is issued, or the account is
    deactivated or merged into another (a slip must not open the account it moved to)."""
    for earlier in session.scalars(
        select(ResidentCode).where(
            ResidentCode.resident_id == resident_id,
            ResidentCode.used_at.is_(None),
            ResidentCode.voided_at.is_(None),
        )
    ):
        earlier.void(now)


def _latest_code(session: Session, *, phone: str) -> ResidentCode | None:
    """The newest code of the district's resident with this phone, in whatever state.

    Whichever centre printed or sent it: like the PIN, a code signs its resident in at any
    centre of the district, which then gets them as its visitor (booking.people.visits)."""
    return session.scalar(
        select(ResidentCode)
        .join(Resident, Resident.id == ResidentCode.resident_id)
        # A deactivated account's slip opens nothing, as if it had no code.
        .where(Resident.phone == phone, Resident.deactivated_at.is_(None))
        .order_by(ResidentCode.issued_at.desc(), ResidentCode.id.desc())
        .limit(1)
    )


def check_code(
    session: Session, *, site_id: int, phone: str, code: str, now: datetime, client: str
) -> ResidentCode:
    """The live code a resident typed at a kiosk of ``site_id`` (at ``client``), not yet used:
    the resident's latest, whichever centre of the district issued it.

    A wrong code, an unknown phone and a phone with no code all raise the same
    :class:`SignInFailed`, counted as a failed sign-in of that phone (so the caller must
    commit even when this raises); :class:`TooManySignIns` comes before any check. The right
    code too late raises :class:`CodeExpired`, and one used or replaced :class:`CodeUsed`:
    the resident can then be told what to do.
    """
    phone, code = normalise_phone(phone), normalise_code(code)
    attempt = sign_in_guard.Attempt.of(SignInKind.RESIDENT, phone, client)
    sign_in_guard.check(session, attempt, now=now)
    row = _latest_code(session, phone=phone)
    if row is None or not CODE_PATTERN.match(code):
        passwords.burn_verification(code)
        right = False
    else:
        right = passwords.verify_secret(row.code_hash, code)
    if not right or row is None:
        sign_in_guard.record_failure(session, attempt, now=now, site_id=site_id)
        raise SignInFailed("phone or code is wrong")
    sign_in_guard.forget(session, attempt)
    if row.used_at is not None or row.voided_at is not None:
        raise CodeUsed("this code was used or replaced", replaced=row.voided_at is not None)
    if not row.is_live(now):
        raise CodeExpired("this code has expired", expired_at=row.expires_at)
    return row


def redeem_code(
    session: Session, *, site_id: int, code_id: int, new_pin: str, now: datetime
) -> Resident:
    """The resident whose code :func:`check_code` accepted chooses ``new_pin``: the PIN is
    judged by the policy (:class:`InvalidInput` with ``rule``, and the code stays usable),
    then set, and the code used up. Audited, never with the PIN or the code."""
    row = session.get(ResidentCode, code_id)
    if row is None:
        raise NotFound("no such code")
    resident = session.get(Resident, row.resident_id)
    if resident is None or not resident.is_active:
        raise NotFound("no such resident")
    if row.used_at is not None or row.voided_at is not None:
        raise CodeUsed("this code was used or replaced", replaced=row.voided_at is not None)
    if not row.is_live(now):
        raise CodeExpired("this code has expired", expired_at=row.expires_at)
    pin_policy.check_new_pin(new_pin, phone=resident.phone)
    row.use(now)
    resident.set_pin(passwords.hash_secret(new_pin))
    # A code of another centre of the district: this one gets them as its visitor.
    visits.visit(session, resident=resident, site_id=site_id, now=now)
    audit.record(
        session, action=f"resident.pin_set_with_code.{row.purpose.value}",
        actor=f"resident:{resident.id}", site_id=site_id, now=now,
        subject=f"resident:{resident.id}",
    )  # fmt: skip
    return resident


def sign_in_with_code(
    session: Session, *, site_id: int, phone: str, code: str, now: datetime, client: str
) -> Resident:
    """Sign in on a resident's own phone with a live code instead of a PIN: the code is
    checked as :func:`check_code` does (same throttle, same errors, so the caller must commit
    even when this raises) and used up; the PIN, if any, is left as it was. Audited."""
    row = check_code(session, site_id=site_id, phone=phone, code=code, now=now, client=client)
    resident = session.get(Resident, row.resident_id)
    if resident is None or not resident.is_active:
        raise NotFound("no such resident")
    row.use(now)
    visits.visit(session, resident=resident, site_id=site_id, now=now)
    audit.record(
        session, action="resident.signed_in_with_code", actor=f"resident:{resident.id}",
        site_id=site_id, now=now, subject=f"resident:{resident.id}",
        detail={"purpose": row.purpose.value},
    )  # fmt: skip
    return resident


def live_code(session: Session, *, resident_id: int, now: datetime) -> ResidentCode | None:
    """The resident's code still waiting to be used, if any (for the resident's page)."""
    rows = session.scalars(
        select(ResidentCode)
        .where(ResidentCode.resident_id == resident_id)
        .order_by(ResidentCode.issued_at.desc(), ResidentCode.id.desc())
        .limit(1)
    )
    row = next(iter(rows), None)
    return row if row is not None and row.is_live(now) else None
