"""Enrolling a resident at a centre: the details checked, possible duplicates found before
anything is saved, and the resident made a member.

One person, one phone, across every centre. ``residents.phone`` stays unique in the whole
database, not per site: the phone is what a resident types to sign in, with one PIN, at any
centre they belong to. So "unique per site" holds through memberships: a phone already a
member here is refused (staff open that resident instead), and a phone known only at another
centre makes that same person a member here too, never a second row. Their PIN, if they have
one, works here at once; what staff typed fills the details the record lacks and overwrites
none. If the name typed differs from the one the other centre holds, the phone is refused:
a mistyped phone must not hand someone else's account (and, with a PIN reset, their PIN) to
a stranger.

The console and the roster import both call :func:`check_details`, :func:`find_possible_duplicates`
and :func:`enrol_resident`; the PIN comes afterwards from a one-time code
(booking.people.one_time_codes).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import Conflict, InvalidInput
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident, mask_name
from booking.people.residents import PHONE_PATTERN, normalise_phone

NAME_MAX = 60
BUILDING_MAX, UNIT_MAX, ROOM_MAX = 40, 20, 20
# Nobody alive was born more than this many years ago; nobody is enrolled before birth.
OLDEST_AGE = 120
ELDERLY_AGE = 60  # 老年人 in the PRC's law on the elderly
LANGUAGES = ("zh_CN", "en")
# An emergency contact may be a landline with its area code, so not only a mobile number.
CONTACT_PHONE_PATTERN = re.compile(r"^\d{7,20}$")

# Why a detail is refused (``InvalidInput.details["problems"]``: field -> one of these).
REQUIRED, TOO_LONG, PATTERN, OUT_OF_RANGE, INCOMPLETE, UNKNOWN = (
    "required", "too_long", "pattern", "out_of_range", "incomplete", "unknown",
)  # fmt: skip


@dataclass(frozen=True)
class EnrolmentDetails:
    """What staff type (or a roster row holds) for one resident; "" is "not given"."""

    name: str
    phone: str
    birth_year: int | None = None
    building: str = ""
    unit: str = ""
    room: str = ""
    lives_alone: bool = False
    emergency_contact_name: str = ""
    emergency_contact_phone: str = ""
    preferred_language: str = "zh_CN"


def check_details(details: EnrolmentDetails, *, now: datetime) -> EnrolmentDetails:
    """The details trimmed and normalised (the phone bare), or :class:`InvalidInput` naming
    every field that is wrong: ``details["problems"]`` maps each to why (the constants
    above), ``details["field"]`` is the first."""
    d = replace(
        details,
        name=details.name.strip(),
        phone=normalise_phone(details.phone),
        building=details.building.strip(),
        unit=details.unit.strip(),
        room=details.room.strip(),
        emergency_contact_name=details.emergency_contact_name.strip(),
        emergency_contact_phone=normalise_phone(details.emergency_contact_phone),
    )
    problems: dict[str, str] = {}
    if not d.name:
        problems["name"] = REQUIRED
    elif len(d.name) > NAME_MAX:
        problems["name"] = TOO_LONG
    if not d.phone:
        problems["phone"] = REQUIRED
    elif not PHONE_PATTERN.match(d.phone):
        problems["phone"] = PATTERN
    if d.birth_year is not None and not (now.year - OLDEST_AGE <= d.birth_year <= now.year):
        problems["birth_year"] = OUT_OF_RANGE
    for field, value, most in (
        ("building", d.building, BUILDING_MAX),
        ("unit", d.unit, UNIT_MAX),
        ("room", d.room, ROOM_MAX),
        ("emergency_contact_name", d.emergency_contact_name, NAME_MAX),
    ):
        if len(value) > most:
            problems[field] = TOO_LONG
    if d.emergency_contact_phone and not CONTACT_PHONE_PATTERN.match(d.emergency_contact_phone):
        problems["emergency_contact_phone"] = PATTERN
    elif bool(d.emergency_contact_name) != bool(d.emergency_contact_phone):
        # A name nobody can call, or a number nobody is named for, helps no one in an emergency.
        missing = (
            "emergency_contact_phone" if d.emergency_contact_name else "emergency_contact_name"
        )
        problems.setdefault(missing, INCOMPLETE)
    if d.preferred_language not in LANGUAGES:
        problems["preferred_language"] = UNKNOWN
    if problems:
        first = next(iter(problems))
        raise InvalidInput(
            f"check the resident's details: {', '.join(problems)}",
            field=first,
            problems=problems,
        )
    return d


class MatchKind(enum.StrEnum):
    """Why an existing resident may be the one being enrolled, strongest first."""

    SAME_PHONE = "same_phone"  # a member here already: open them, do not enrol
    PHONE_ELSEWHERE = "phone_elsewhere"  # a member of another centre: joins here
    SAME_NAME_AND_BUILDING = "same_name_and_building"
    SAME_NAME = "same_name"


@dataclass(frozen=True)
class PossibleDuplicate:
    resident_id: int
    kind: MatchKind
    # What this centre's staff may read: a resident of another centre only by masked name.
    name: str
    phone: str
    address: str
    birth_year: int | None

    @property
    def blocks(self) -> bool:
        """Enrolment cannot go ahead over this match, whatever staff confirm."""
        return self.kind is MatchKind.SAME_PHONE

    @property
    def member_here(self) -> bool:
        return self.kind is not MatchKind.PHONE_ELSEWHERE


def _member_ids(session: Session, site_id: int, resident_ids: list[int]) -> set[int]:
    if not resident_ids:
        return set()
    return set(
        session.scalars(
            select(ResidentMembership.resident_id).where(
                ResidentMembership.site_id == site_id,
                ResidentMembership.resident_id.in_(resident_ids),
                # A visitor from another centre of the district may be enrolled here.
                ResidentMembership.visitor.is_(False),
            )
        )
    )


def find_possible_duplicates(
    session: Session, site_id: int, name: str, phone: str, *, building: str = ""
) -> list[PossibleDuplicate]:
    """Residents who may be the person about to be enrolled at ``site_id``, strongest match
    first: the same phone (here, or at another centre), the same name and building, the same
    name. Saves nothing; call it before :func:`enrol_resident` to show staff the matches."""
    name, phone, building = name.strip(), normalise_phone(phone), building.strip()
    found: list[PossibleDuplicate] = []
    seen: set[int] = set()
    by_phone = session.scalar(select(Resident).where(Resident.phone == phone)) if phone else None
    if by_phone is not None:
        here = bool(_member_ids(session, site_id, [by_phone.id]))
        found.append(_match(by_phone, MatchKind.SAME_PHONE if here else MatchKind.PHONE_ELSEWHERE))
        seen.add(by_phone.id)
    if name:
        # Same name, ignoring case and spaces a desk may type ("Li Ming", "li ming").
        key = name_key(name)
        named = session.scalars(
            select(Resident)
            .join(ResidentMembership)
            .where(
                ResidentMembership.site_id == site_id,
                func.lower(func.replace(Resident.name, " ", "")) == key,
            )
            .order_by(Resident.id)
        )
        same_building, same_name = [], []
        for resident in named:
            if resident.id in seen:
                continue
            if building and (resident.building or "").strip() == building:
                same_building.append(_match(resident, MatchKind.SAME_NAME_AND_BUILDING))
            else:
                same_name.append(_match(resident, MatchKind.SAME_NAME))
        found += same_building + same_name
    return found


def name_key(name: str) -> str:
    """A name as duplicates are judged: spaces and case ignored."""
    return name.replace(" ", "").lower()


def _match(resident: Resident, kind: MatchKind) -> PossibleDuplicate:
    if kind is MatchKind.PHONE_ELSEWHERE:
        return PossibleDuplicate(resident.id, kind, mask_name(resident.name), "", "", None)
    return PossibleDuplicate(
        resident.id, kind, resident.name, resident.phone, resident.address, resident.birth_year
    )


class AlreadyMember(Conflict):
    """The phone is a member of this centre already (``details["resident_id"]``)."""

    code = "already_member"


class PhoneTakenElsewhere(Conflict):
    """The phone belongs to someone of another centre under another name."""

    code = "phone_taken_elsewhere"


class PossibleDuplicates(Conflict):
    """Residents with the same name are members here; staff must say this is someone else
    (``details["matches"]``: the :class:`PossibleDuplicate` list)."""

    code = "possible_duplicates"


@dataclass(frozen=True)
class Enrolment:
    resident: Resident
    # The person was enrolled at another centre and is now a member here too.
    joined_existing: bool


def enrol_resident(
    session: Session,
    *,
    site_id: int,
    details: EnrolmentDetails,
    now: datetime,
    actor: str,
    staff_id: int | None = None,
    confirmed_different: bool = False,
) -> Enrolment:
    """Enrol a resident at ``site_id``, audited as ``actor`` (``staff:<username>``); the
    resident has no PIN until they choose one with a one-time code.

    Raises :class:`InvalidInput` (from :func:`check_details`), :class:`AlreadyMember`,
    :class:`PhoneTakenElsewhere`, and :class:`PossibleDuplicates` when residents of the same
    name are members here and ``confirmed_different`` is not set.
    """
    d = check_details(details, now=now)
    matches = find_possible_duplicates(session, site_id, d.name, d.phone, building=d.building)
    existing: Resident | None = None
    for match in matches:
        if match.kind is MatchKind.SAME_PHONE:
            raise AlreadyMember("this phone is a member here already", field="phone",
                                resident_id=match.resident_id)  # fmt: skip
        if match.kind is MatchKind.PHONE_ELSEWHERE:
            existing = session.get(Resident, match.resident_id)
            if existing is not None and name_key(existing.name) != name_key(d.name):
                raise PhoneTakenElsewhere("this phone belongs to another person", field="phone")
    namesakes = [m for m in matches if m.kind is not MatchKind.PHONE_ELSEWHERE]
    if namesakes and not confirmed_different:
        raise PossibleDuplicates("residents with this name are members here", matches=namesakes)

    if existing is None:
        resident = Resident(name=d.name, phone=d.phone, pin_hash=None, created_at=now)
        session.add(resident)
    else:
        resident = existing
    fill_details(resident, d, now=now, overwrite=existing is None)
    visiting = next((m for m in resident.memberships if m.site_id == site_id), None)
    if visiting is not None:
        visiting.enrol()  # came here as a visitor, a member from now on
    else:
        resident.memberships.append(ResidentMembership(site_id=site_id, joined_at=now))
    session.flush()
    detail: dict[str, object] = {"joined_existing": existing is not None}
    if namesakes:
        detail["confirmed_different_from"] = [m.resident_id for m in namesakes]
    audit.record(
        session, action="resident.enrolled", actor=actor, staff_id=staff_id, site_id=site_id,
        now=now, subject=f"resident:{resident.id}", detail=detail,
    )  # fmt: skip
    return Enrolment(resident=resident, joined_existing=existing is not None)


def fill_details(
    resident: Resident, d: EnrolmentDetails, *, now: datetime, overwrite: bool
) -> None:
    """Write the details onto a new resident; on one known at another centre, fill only
    what is missing (that centre's record stands)."""
    values: dict[str, object] = {
        "birth_year": d.birth_year,
        "building": d.building or None,
        "unit": d.unit or None,
        "room": d.room or None,
        "emergency_contact_name": d.emergency_contact_name or None,
        "emergency_contact_phone": d.emergency_contact_phone or None,
    }
    for name, value in values.items():
        if value is not None and (overwrite or getattr(resident, name) is None):
            setattr(resident, name, value)
    if overwrite:
        resident.lives_alone = d.lives_alone
        resident.preferred_language = d.preferred_language
    elif d.lives_alone:
        resident.lives_alone = True
    if resident.birth_year is not None:
        resident.is_elderly = now.year - resident.birth_year >= ELDERLY_AGE
