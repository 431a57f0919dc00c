"""Enrolling a resident: the details checked, possible duplicates flagged before saving, and
one person across centres (a phone known elsewhere joins here, never a second row)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import InvalidInput, SignInFailed
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people import residents
from booking.people.enrolment import (
    AlreadyMember,
    EnrolmentDetails,
    MatchKind,
    PhoneTakenElsewhere,
    PossibleDuplicates,
    check_details,
    enrol_resident,
    find_possible_duplicates,
)
from booking.people.models.residents import Resident

STAFF = "staff:zhao"


@pytest.fixture
def sites(any_database: Database) -> tuple[int, int]:
    with any_database.write() as session:
        here = Site(slug="xinhua", name_zh="新华", name_en="Xinhua")
        there = Site(slug="yongsheng", name_zh="永盛", name_en="Yongsheng")
        session.add_all([here, there])
        session.flush()
        return here.id, there.id


def details(**changes: object) -> EnrolmentDetails:
    base: dict[str, object] = {
        "name": "王秀英", "phone": "139 0000 0001", "birth_year": 1948, "building": "3号楼",
        "unit": "2单元", "room": "301", "lives_alone": True,
        "emergency_contact_name": "王强", "emergency_contact_phone": "13900000099",
    }  # fmt: skip
    base.update(changes)
    return EnrolmentDetails(**base)  # type: ignore[arg-type]


def enrol(database: Database, site_id: int, clock: FrozenClock, d: EnrolmentDetails,
          **kwargs: object) -> int:  # fmt: skip
    with database.write() as session:
        return enrol_resident(session, site_id=site_id, details=d, now=clock.now(), actor=STAFF,
                              **kwargs).resident.id  # type: ignore[arg-type]  # fmt: skip


def test_an_enrolled_resident_has_every_detail_and_no_pin(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    resident_id = enrol(any_database, sites[0], clock, details())
    with any_database.read() as session:
        resident = session.get(Resident, resident_id)
        assert resident is not None
        assert (resident.name, resident.phone, resident.birth_year) == (
            "王秀英",
            "13900000001",
            1948,
        )
        assert resident.address == "3号楼 2单元 301"
        assert resident.lives_alone and resident.is_elderly
        assert (resident.emergency_contact_name, resident.emergency_contact_phone) == (
            "王强",
            "13900000099",
        )
        assert resident.preferred_language == "zh_CN"
        assert resident.pin_hash is None and not resident.has_pin
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "resident.enrolled"))
        assert entry is not None and entry.actor == STAFF
        assert entry.subject == f"resident:{resident_id}"


def test_a_resident_without_a_pin_cannot_sign_in_and_fails_like_a_wrong_pin(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    enrol(any_database, sites[0], clock, details())
    for phone in ("13900000001", "13911112222"):  # enrolled without a PIN; unknown
        with any_database.write() as session, pytest.raises(SignInFailed) as failed:
            residents.authenticate_resident(session, site_id=sites[0], phone=phone,
                                            pin="", now=clock.now(), client="kiosk")  # fmt: skip
        assert failed.value.message == "phone or PIN is wrong"


@pytest.mark.parametrize(
    ("changes", "field", "why"),
    [
        ({"name": "  "}, "name", "required"),
        ({"name": "王" * 61}, "name", "too_long"),
        ({"phone": "1390000000"}, "phone", "pattern"),
        ({"phone": "23900000001"}, "phone", "pattern"),
        ({"phone": ""}, "phone", "required"),
        ({"birth_year": 2027}, "birth_year", "out_of_range"),  # the clock says 2026
        ({"birth_year": 1905}, "birth_year", "out_of_range"),
        ({"building": "楼" * 41}, "building", "too_long"),
        ({"room": "1" * 21}, "room", "too_long"),
        ({"emergency_contact_phone": "12ab"}, "emergency_contact_phone", "pattern"),
        ({"emergency_contact_phone": ""}, "emergency_contact_phone", "incomplete"),
        ({"emergency_contact_name": ""}, "emergency_contact_name", "incomplete"),
        ({"preferred_language": "fr"}, "preferred_language", "unknown"),
    ],
)
def test_bad_details_are_refused_naming_the_field_and_why(
    changes: dict[str, object], field: str, why: str, clock: FrozenClock
) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_details(details(**changes), now=clock.now())
    assert refused.value.details["problems"] == {field: why}


def test_every_wrong_field_is_named_at_once(clock: FrozenClock) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_details(details(name="", phone="12", birth_year=1800), now=clock.now())
    assert set(refused.value.details["problems"]) == {"name", "phone", "birth_year"}  # type: ignore[arg-type]


def test_the_oldest_and_youngest_birth_years_pass(clock: FrozenClock) -> None:
    for year in (2026 - 120, 2026):
        assert check_details(details(birth_year=year), now=clock.now()).birth_year == year


def test_a_bad_enrolment_saves_nothing(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    with pytest.raises(InvalidInput):
        enrol(any_database, sites[0], clock, details(phone="12"))
    with any_database.read() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 0


def test_the_same_phone_here_is_flagged_and_refused(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    first = enrol(any_database, sites[0], clock, details())
    with any_database.read() as session:
        matches = find_possible_duplicates(session, sites[0], "李明", "13900000001")
    assert [(m.resident_id, m.kind) for m in matches] == [(first, MatchKind.SAME_PHONE)]
    assert matches[0].blocks
    with pytest.raises(AlreadyMember):
        enrol(any_database, sites[0], clock, details(name="李明"), confirmed_different=True)


def test_the_same_name_is_flagged_with_the_same_building_first_and_needs_confirming(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    elsewhere = enrol(any_database, sites[0], clock, details(phone="13900000002", building="9号楼"))
    same_building = enrol(any_database, sites[0], clock, details(phone="13900000003"),
                          confirmed_different=True)  # fmt: skip
    with any_database.read() as session:
        matches = find_possible_duplicates(
            session, sites[0], " 王秀英 ", "13900000001", building="3号楼"
        )
    assert [(m.resident_id, m.kind) for m in matches] == [
        (same_building, MatchKind.SAME_NAME_AND_BUILDING), (elsewhere, MatchKind.SAME_NAME),
    ]  # fmt: skip
    with pytest.raises(PossibleDuplicates) as flagged:
        enrol(any_database, sites[0], clock, details())
    assert len(flagged.value.details["matches"]) == 2  # type: ignore[arg-type]
    new = enrol(any_database, sites[0], clock, details(), confirmed_different=True)
    with any_database.read() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.subject == f"resident:{new}"))
        assert entry is not None
        assert sorted(entry.detail["confirmed_different_from"]) == sorted(
            [elsewhere, same_building]
        )


def test_a_name_differing_only_in_case_and_spaces_is_the_same_name(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    enrol(any_database, sites[0], clock, details(name="Li Ming"))
    with any_database.read() as session:
        assert find_possible_duplicates(session, sites[0], "liming", "13900000005")


def test_namesakes_at_another_centre_are_not_flagged(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    enrol(any_database, sites[1], clock, details())
    with any_database.read() as session:
        assert find_possible_duplicates(session, sites[0], "王秀英", "13900000007") == []


def test_a_person_of_another_centre_joins_here_without_a_second_row(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    there = enrol(any_database, sites[1], clock, details(building="", unit="", room=""))
    with any_database.read() as session:
        (match,) = find_possible_duplicates(session, sites[0], "王秀英", "13900000001")
    assert match.kind is MatchKind.PHONE_ELSEWHERE and not match.blocks
    assert match.name == "王*英" and match.phone == ""  # another centre's: masked
    with any_database.write() as session:
        enrolment = enrol_resident(session, site_id=sites[0], details=details(building="5号楼",
                                   birth_year=1950), now=clock.now(), actor=STAFF)  # fmt: skip
        assert enrolment.joined_existing and enrolment.resident.id == there
        # Missing details are filled in; what the other centre recorded stands.
        assert enrolment.resident.building == "5号楼"
        assert enrolment.resident.birth_year == 1948
        assert {m.site_id for m in enrolment.resident.memberships} == set(sites)
    with any_database.read() as session:
        assert session.scalar(select(func.count()).select_from(Resident)) == 1


def test_a_phone_of_another_centre_under_another_name_is_refused(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    enrol(any_database, sites[1], clock, details())
    with pytest.raises(PhoneTakenElsewhere):
        enrol(any_database, sites[0], clock, details(name="张三"), confirmed_different=True)
