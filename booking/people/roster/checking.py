"""The dry run: every row of a roster checked, and every reason a row would be rejected,
without writing anything.

A row passes enrolment's own check of the details (booking.people.enrolment.check_details,
the rules the desk's form obeys) and the same duplicate rules, asked of the whole file at
once: a handful of queries for 12,000 rows, not a few per row.

- A phone that is a member here already is rejected (staff open that resident instead); a
  phone of another centre's resident under another name too; one of another centre's
  resident under the same name joins that person here, as enrolment does.
- A phone twice in the file: the later rows are rejected if the name is the same (a copied
  row), every row if the names differ (which one is right is the office's to say).
- The same name at the same address (building, unit, room) as a member here, or as an earlier
  row, under another phone, is most likely the same person: rejected. The same name alone is
  common (王伟) and is only noted; confirming the import says they are different people,
  as ``confirmed_different`` does at the desk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import InvalidInput
from booking.people.enrolment import EnrolmentDetails, check_details, name_key
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.residents import normalise_phone
from booking.people.roster import columns
from booking.people.roster.reading import RosterRow, RosterSheet, RowProblem

T = TypeVar("T")

# Why a row is rejected, beyond the reasons of booking.people.enrolment and of reading.
DUPLICATE_IN_FILE = "duplicate_in_file"  # the same phone and name on an earlier row
PHONE_REUSED_IN_FILE = "phone_reused_in_file"  # the same phone on another row, another name
SAME_PERSON_IN_FILE = "same_person_in_file"  # same name and address, another phone
ALREADY_MEMBER = "already_member"
PHONE_TAKEN_ELSEWHERE = "phone_taken_elsewhere"
SAME_PERSON_HERE = "same_person_here"
NOT_A_VALUE = "not_a_value"  # a year, yes/no or language that is none

_IN_CHUNK = 500  # phones per IN (...) query: well under every backend's parameter limit


@dataclass(frozen=True)
class CheckedRow:
    """A row that would be imported: its details as enrolment normalised them."""

    number: int
    details: EnrolmentDetails
    # Another centre's resident with this phone and name, who joins this centre.
    joins_resident_id: int | None = None
    # Members here of the same name (at another address): noted, not rejected.
    namesake_ids: tuple[int, ...] = ()


@dataclass
class RosterReport:
    sheet: RosterSheet
    accepted: list[CheckedRow] = field(default_factory=list)
    rejected: list[RosterRow] = field(default_factory=list)

    @property
    def accepted_numbers(self) -> list[int]:
        return [row.number for row in self.accepted]

    @property
    def joining(self) -> int:
        return sum(1 for row in self.accepted if row.joins_resident_id is not None)

    @property
    def with_namesakes(self) -> list[CheckedRow]:
        return [row for row in self.accepted if row.namesake_ids]


def check_roster(
    session: Session, *, site_id: int, sheet: RosterSheet, now: datetime
) -> RosterReport:
    """Check every row of ``sheet`` for ``site_id``; reads only."""
    details: dict[int, EnrolmentDetails] = {}
    for row in sheet.rows:
        checked = _details_of(row, now=now)
        if checked is not None:
            details[row.number] = checked
    with_phone = [row for row in sheet.rows if row.number in details]
    _phones_in_file(with_phone, details)
    _people_in_file(with_phone, details)
    joins, by_phone = _phones_known(session, site_id, with_phone, details)
    namesakes = _members_named(session, site_id, with_phone, details, by_phone)

    report = RosterReport(sheet)
    for row in sheet.rows:
        if row.problems:
            row.problems.sort(key=_problem_order)
            report.rejected.append(row)
        else:
            report.accepted.append(
                CheckedRow(row.number, details[row.number], joins.get(row.number),
                           tuple(namesakes.get(row.number, ())))
            )  # fmt: skip
    return report


def _problem_order(problem: RowProblem) -> int:
    keys = [column.key for column in columns.COLUMNS]
    return keys.index(problem.field) if problem.field in keys else len(keys)


def _details_of(row: RosterRow, *, now: datetime) -> EnrolmentDetails | None:
    """The row's details, normalised by enrolment; its problems added to the row. Returns
    the details when the phone is good enough to compare with others, else None."""
    values, reported = row.values, {problem.field for problem in row.problems}

    def convert(key: str, parse: Callable[[str], T], default: T) -> T:
        if key in reported:
            return default
        try:
            return parse(values.get(key, ""))
        except columns.NotAValue:
            row.problems.append(RowProblem(key, NOT_A_VALUE))
            return default

    raw = EnrolmentDetails(
        name=values.get("name", ""),
        phone=values.get("phone", ""),
        birth_year=convert("birth_year", columns.parse_year, None),
        building=values.get("building", ""),
        unit=values.get("unit", ""),
        room=values.get("room", ""),
        lives_alone=convert("lives_alone", columns.parse_yes_no, False),
        emergency_contact_name=values.get("emergency_contact_name", ""),
        emergency_contact_phone=values.get("emergency_contact_phone", ""),
        preferred_language=convert("preferred_language", columns.parse_language, "zh_CN"),
    )
    try:
        checked = check_details(raw, now=now)
    except InvalidInput as error:
        problems = dict(error.details.get("problems") or {})  # type: ignore[call-overload]
        for key, code in problems.items():
            if key not in reported:
                row.problems.append(RowProblem(key, code))
        if "phone" in problems or "phone" in reported:
            return None
        # The phone itself is good: the row is still compared with the others, so that
        # every reason it would be rejected for is named at once.
        return _trimmed(raw)
    if "phone" in reported:
        return None
    return checked


def _trimmed(raw: EnrolmentDetails) -> EnrolmentDetails:
    return EnrolmentDetails(
        name=raw.name.strip(), phone=normalise_phone(raw.phone), building=raw.building.strip(),
        unit=raw.unit.strip(), room=raw.room.strip(),
    )  # fmt: skip


def _address(d: EnrolmentDetails) -> tuple[str, str, str] | None:
    """Where a person lives, when the row says enough to tell two people apart by it."""
    if not (d.building or d.room):
        return None
    return (d.building, d.unit, d.room)


def _phones_in_file(rows: list[RosterRow], details: dict[int, EnrolmentDetails]) -> None:
    by_phone: dict[str, list[RosterRow]] = defaultdict(list)
    for row in rows:
        by_phone[details[row.number].phone].append(row)
    for same in by_phone.values():
        if len(same) < 2:
            continue
        names = {name_key(details[row.number].name) for row in same}
        if len(names) == 1:
            for later in same[1:]:
                later.problems.append(RowProblem("phone", DUPLICATE_IN_FILE, same[0].number))
        else:
            for row in same:
                other = same[1] if row is same[0] else same[0]
                row.problems.append(RowProblem("phone", PHONE_REUSED_IN_FILE, other.number))


def _people_in_file(rows: list[RosterRow], details: dict[int, EnrolmentDetails]) -> None:
    first: dict[tuple[str, tuple[str, str, str]], tuple[int, str]] = {}
    for row in rows:
        d = details[row.number]
        address = _address(d)
        if address is None or not d.name:
            continue
        key = (name_key(d.name), address)
        if key not in first:
            first[key] = (row.number, d.phone)
        elif first[key][1] != d.phone:
            row.problems.append(RowProblem("", SAME_PERSON_IN_FILE, first[key][0]))


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _phones_known(
    session: Session, site_id: int, rows: list[RosterRow], details: dict[int, EnrolmentDetails]
) -> tuple[dict[int, int], dict[int, int]]:
    """Reject rows whose phone is taken; returns row number -> the resident of another
    centre that row joins, and row number -> the resident with the row's phone."""
    phones = sorted({details[row.number].phone for row in rows})
    known: dict[str, tuple[int, str]] = {}
    for chunk in _chunks(phones):
        for resident_id, phone, name in session.execute(
            select(Resident.id, Resident.phone, Resident.name).where(Resident.phone.in_(chunk))
        ):
            known[phone] = (resident_id, name)
    members_here: set[int] = set()
    ids = [resident_id for resident_id, _ in known.values()]
    for start in range(0, len(ids), _IN_CHUNK):
        members_here.update(
            session.scalars(
                select(ResidentMembership.resident_id).where(
                    ResidentMembership.site_id == site_id,
                    ResidentMembership.resident_id.in_(ids[start : start + _IN_CHUNK]),
                )
            )
        )
    joins: dict[int, int] = {}
    by_phone: dict[int, int] = {}
    for row in rows:
        d = details[row.number]
        if d.phone not in known:
            continue
        resident_id, name = known[d.phone]
        by_phone[row.number] = resident_id
        if resident_id in members_here:
            row.problems.append(RowProblem("phone", ALREADY_MEMBER, resident_id=resident_id))
        elif name_key(name) != name_key(d.name):
            row.problems.append(RowProblem("phone", PHONE_TAKEN_ELSEWHERE))
        else:
            joins[row.number] = resident_id
    return joins, by_phone


def _members_named(
    session: Session,
    site_id: int,
    rows: list[RosterRow],
    details: dict[int, EnrolmentDetails],
    by_phone: dict[int, int],
) -> dict[int, list[int]]:
    """Reject rows naming a member here at the same address; returns row number -> the
    members here of the same name elsewhere (noted only)."""
    names = {name_key(details[row.number].name) for row in rows}
    members: dict[str, list[tuple[int, tuple[str, str, str]]]] = defaultdict(list)
    query = (
        select(Resident.id, Resident.name, Resident.building, Resident.unit, Resident.room)
        .join(ResidentMembership)
        .where(ResidentMembership.site_id == site_id)
    )
    for resident_id, name, building, unit, room in session.execute(query):
        key = name_key(name)
        if key in names:
            members[key].append((resident_id, (building or "", unit or "", room or "")))
    namesakes: dict[int, list[int]] = {}
    for row in rows:
        d = details[row.number]
        if not d.name:
            continue
        address = _address(d)
        others: list[int] = []
        for resident_id, their_address in members.get(name_key(d.name), ()):
            if resident_id == by_phone.get(row.number):
                continue  # the same person, found by the phone already
            if address is not None and their_address == address:
                row.problems.append(RowProblem("", SAME_PERSON_HERE, resident_id=resident_id))
                break
            others.append(resident_id)
        else:
            if others:
                namesakes[row.number] = others
    return namesakes
