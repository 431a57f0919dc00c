"""The roster's dry run names every row it would reject and why; the import enrols exactly
the rows it accepted, as enrolment would; slips issue codes; the export reads back in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people.enrolment import EnrolmentDetails, enrol_resident
from booking.people.models.resident_codes import ResidentCode
from booking.people.models.residents import Resident
from booking.people.roster import checking, exporting, reading, slips
from booking.people.roster.checking import RosterReport, check_roster
from booking.people.roster.importing import import_roster
from booking.people.roster.reading import RowProblem, read_roster

HEADER = "姓名,手机号,出生年份,楼栋,单元,室号,独居,紧急联系人,紧急联系人电话,常用语言"


@pytest.fixture
def sites(any_database: Database, clock: FrozenClock) -> tuple[int, int]:
    with any_database.write() as session:
        here = Site(slug="xinhua", name_zh="新华", name_en="Xinhua")
        there = Site(slug="yongsheng", name_zh="永盛", name_en="Yongsheng")
        session.add_all([here, there])
        session.flush()
        for site, name, phone, building, room in (
            (here, "赵大爷", "13900000001", "1栋", "101"),  # a member here
            (there, "钱阿姨", "13900000002", "", ""),  # members of the other centre
            (there, "孙二娘", "13900000003", "", ""),
        ):
            enrol_resident(
                session, site_id=site.id, now=clock.now(), actor="staff:zhao",
                details=EnrolmentDetails(name=name, phone=phone, building=building, room=room),
            )  # fmt: skip
        ids = here.id, there.id
    return ids


def roster(*lines: str) -> bytes:
    return "\n".join([HEADER, *lines]).encode()


def dry_run(database: Database, site_id: int, clock: FrozenClock, data: bytes) -> RosterReport:
    with database.read() as session:
        return check_roster(session, site_id=site_id, sheet=read_roster(data), now=clock.now())


def rejected(report: RosterReport) -> dict[int, list[RowProblem]]:
    return {row.number: row.problems for row in report.rejected}


def resident_count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count(Resident.id))) or 0)


def test_the_dry_run_names_every_bad_row_with_every_reason_and_writes_nothing(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    here, _ = sites
    data = roster(
        "王秀英,13800000001,1948,3栋,2单元,301,是,王强,13900000099,中文",  # 2: good
        ",12345,1800,3栋,2单元,302,也许,王强,,klingon",  # 3: everything wrong
        "李建国,13800000003,1950,3栋,2单元,303,否,,,",  # 4: good, then copied on 5
        "李建国,13800000003,1950,3栋,2单元,303,否,,,",  # 5: the same row again
        "张三,13800000004,,,,,,,,",  # 6: phone on row 7 under another name
        "李四,13800000004,,,,,,,,",  # 7
        "赵大爷,13800000005,,1栋,,101,,,,",  # 8: same name and address as a member
        "陈静,13900000001,,,,,,,,",  # 9: the phone of a member here
        "孙悟空,13900000003,,,,,,,,",  # 10: another centre's phone, another name
        "钱阿姨,13900000002,,,,,,,,",  # 11: another centre's resident: joins here
        "王秀英,13800000012,,3栋,2单元,301,,,,",  # 12: row 2's person under another phone
        "赵大爷,13800000013,,2栋,,201,,,,",  # 13: a namesake elsewhere: noted, accepted
        "周" + "芷" * 60 + ",13800000014,1.5,5栋,,,,,,",  # 14: name too long, year not a year
    )
    before = resident_count(any_database)
    report = dry_run(any_database, here, clock, data)
    assert resident_count(any_database) == before

    assert rejected(report) == {
        3: [RowProblem("name", "required"), RowProblem("phone", "pattern"),
            RowProblem("birth_year", "out_of_range"), RowProblem("lives_alone", "not_a_value"),
            RowProblem("emergency_contact_phone", "incomplete"),
            RowProblem("preferred_language", "not_a_value")],
        5: [RowProblem("phone", checking.DUPLICATE_IN_FILE, other_row=4)],
        6: [RowProblem("phone", checking.PHONE_REUSED_IN_FILE, other_row=7)],
        7: [RowProblem("phone", checking.PHONE_REUSED_IN_FILE, other_row=6)],
        8: [RowProblem("", checking.SAME_PERSON_HERE, resident_id=1)],
        9: [RowProblem("phone", checking.ALREADY_MEMBER, resident_id=1)],
        10: [RowProblem("phone", checking.PHONE_TAKEN_ELSEWHERE)],
        12: [RowProblem("", checking.SAME_PERSON_IN_FILE, other_row=2)],
        14: [RowProblem("name", "too_long"), RowProblem("birth_year", "not_a_value")],
    }  # fmt: skip
    assert report.accepted_numbers == [2, 4, 11, 13]
    assert report.joining == 1
    assert [(row.number, row.namesake_ids) for row in report.with_namesakes] == [(13, (1,))]


def test_the_import_enrols_exactly_the_accepted_rows_as_enrolment_would(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    here, there = sites
    data = roster(
        "王秀英,138 0000 0001,1948,3栋,2单元,301,是,王强,13900000099,中文",
        "Li Ming,13800000002,1990,,,,否,,,English",
        ",1,,,,,,,,",
        "钱阿姨,13900000002,1955,6栋,1单元,602,是,,,",
    )
    with any_database.write() as session:
        report = check_roster(session, site_id=here, sheet=read_roster(data), now=clock.now())
        result = import_roster(session, site_id=here, report=report, now=clock.now(),
                               actor="staff:admin", file_digest="ab" * 32)  # fmt: skip
    assert (result.created, result.joined, result.rejected) == (2, 1, 1)

    with any_database.read() as session:
        wang = session.scalars(select(Resident).where(Resident.phone == "13800000001")).one()
        assert (wang.name, wang.birth_year, wang.address, wang.lives_alone, wang.is_elderly,
                wang.emergency_contact_name, wang.emergency_contact_phone, wang.pin_hash) == (
            "王秀英", 1948, "3栋 2单元 301", True, True, "王强", "13900000099", None)  # fmt: skip
        li = session.scalars(select(Resident).where(Resident.name == "Li Ming")).one()
        assert (li.preferred_language, li.is_elderly) == ("en", False)
        qian = session.scalars(select(Resident).where(Resident.phone == "13900000002")).one()
        # One person, now of both centres; the other centre's record gains what it lacked.
        assert {m.site_id for m in qian.memberships} == {here, there}
        assert (qian.address, qian.birth_year) == ("6栋 1单元 602", 1955)
        assert set(result.resident_ids) == {wang.id, li.id, qian.id}
        enrolled = session.scalars(
            select(AuditEntry.subject).where(AuditEntry.action == "resident.enrolled",
                                             AuditEntry.actor == "staff:admin")
        ).all()  # fmt: skip
        assert sorted(enrolled) == sorted(f"resident:{i}" for i in result.resident_ids)
        summary = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "resident.roster_imported")
        ).one()
        assert summary.detail["created"] == 2 and summary.detail["file_sha256"] == "ab" * 32


def test_slips_issue_codes_to_residents_without_a_pin_by_building_and_not_twice(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    here, _ = sites
    lines = [f"居民{n},1380000{n:04d},,{1 + n % 2}栋,,{n}," for n in range(6)]
    with any_database.write() as session:
        report = check_roster(session, site_id=here, sheet=read_roster(roster(*lines)),
                              now=clock.now())  # fmt: skip
        import_roster(session, site_id=here, report=report, now=clock.now(), actor="a")
    with any_database.read() as session:
        # 赵大爷 (1栋, enrolled at the desk, no PIN yet) waits too.
        assert slips.awaiting_by_building(session, site_id=here, now=clock.now()) == [
            ("1栋", 4), ("2栋", 3)]  # fmt: skip
    with any_database.write() as session:
        first = slips.issue_slips(session, site_id=here, now=clock.now(), actor="a",
                                  building="2栋", limit=2)  # fmt: skip
    assert [slip.name for slip in first] == ["居民1", "居民3"]
    assert all(len(slip.code.code) == 8 for slip in first)
    with any_database.write() as session:
        rest = slips.issue_slips(session, site_id=here, now=clock.now(), actor="a")
        assert slips.awaiting_by_building(session, site_id=here, now=clock.now()) == []
        assert session.scalar(select(func.count(ResidentCode.id))) == 7
    assert [slip.name for slip in rest] == ["居民0", "赵大爷", "居民2", "居民4", "居民5"]
    # A day later the unused codes have expired, and their residents come round again.
    clock.advance(timedelta(hours=25))
    with any_database.read() as session:
        assert sum(n for _, n in slips.awaiting_by_building(session, site_id=here,
                                                             now=clock.now())) == 7  # fmt: skip


def test_the_exported_roster_has_the_columns_an_import_reads(
    any_database: Database, sites: tuple[int, int], clock: FrozenClock
) -> None:
    here, _ = sites
    with any_database.read() as session:
        rows = list(exporting.roster_rows(session, site_id=here))
    assert exporting.HEADER == tuple(HEADER.split(","))
    assert rows == [["赵大爷", "13900000001", None, "1栋", "", "101", "否", "", "", "中文"]]
    assert reading.read_roster(HEADER.encode()).columns  # every header is one it reads
