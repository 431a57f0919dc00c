"""One-time codes: a resident chooses a PIN with the code on a slip; it lasts 24 hours by the
clock, is used once, is voided by a newer one, is kept only as a hash, and guessing it is
throttled like guessing a PIN."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import (
    InvalidInput,
    NotFound,
    SessionExpired,
    SignInFailed,
    TooManySignIns,
)
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people import auth_sessions, one_time_codes, residents
from booking.people.enrolment import EnrolmentDetails, enrol_resident
from booking.people.models.resident_codes import CodePurpose, ResidentCode
from booking.people.models.residents import Resident
from booking.people.one_time_codes import CodeExpired, CodeUsed, IssuedCode

PHONE = "13900000001"
PIN = "275139"
KIOSK = "10.0.0.10"


@pytest.fixture
def site_id(any_database: Database) -> int:
    with any_database.write() as session:
        site = Site(slug="xinhua", name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        return site.id


@pytest.fixture
def resident_id(any_database: Database, site_id: int, clock: FrozenClock) -> int:
    with any_database.write() as session:
        return enrol_resident(session, site_id=site_id, now=clock.now(), actor="staff:zhao",
                              details=EnrolmentDetails(name="王秀英", phone=PHONE)).resident.id  # fmt: skip


def issue(database: Database, site_id: int, resident_id: int, clock: FrozenClock,
          purpose: CodePurpose = CodePurpose.ENROL) -> IssuedCode:  # fmt: skip
    with database.write() as session:
        return one_time_codes.issue_code(session, resident_id=resident_id, site_id=site_id,
                                         purpose=purpose, now=clock.now(), actor="staff:zhao")  # fmt: skip


def check(database: Database, site_id: int, clock: FrozenClock, code: str,
          phone: str = PHONE) -> int:  # fmt: skip
    """Type a phone and code as the kiosk does: a failure is committed even when it raises."""
    with database.write() as session:
        try:
            return one_time_codes.check_code(session, site_id=site_id, phone=phone, code=code,
                                             now=clock.now(), client=KIOSK).id  # fmt: skip
        except (SignInFailed, TooManySignIns) as error:
            session.commit()
            raise error


def redeem(database: Database, site_id: int, clock: FrozenClock, code_id: int,
           pin: str = PIN) -> int:  # fmt: skip
    with database.write() as session:
        return one_time_codes.redeem_code(session, site_id=site_id, code_id=code_id,
                                          new_pin=pin, now=clock.now()).id  # fmt: skip


def sign_in(database: Database, site_id: int, clock: FrozenClock, pin: str = PIN) -> int:
    with database.write() as session:
        try:
            return residents.authenticate_resident(session, site_id=site_id, phone=PHONE,
                                                   pin=pin, now=clock.now(), client=KIOSK).id  # fmt: skip
        except SignInFailed as error:
            session.commit()
            raise error


def test_a_code_is_eight_digits_and_kept_only_as_a_hash(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    assert one_time_codes.CODE_PATTERN.match(issued.code)
    assert issued.spaced == f"{issued.code[:4]} {issued.code[4:]}"
    assert issued.expires_at == clock.now() + timedelta(hours=24)
    with any_database.read() as session:
        row = session.get(ResidentCode, issued.code_id)
        assert row is not None and issued.code not in row.code_hash
        assert row.code_hash.startswith("$argon2id$")
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action.like("resident.code%")))
        assert entry is not None and entry.action == "resident.code_issued.enrol"
        assert issued.code not in str(entry.detail)


def test_the_code_lets_the_resident_choose_a_pin_and_then_sign_in(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    code_id = check(any_database, site_id, clock, issued.spaced)  # typed as printed, spaced
    assert redeem(any_database, site_id, clock, code_id) == resident_id
    assert sign_in(any_database, site_id, clock) == resident_id


def test_a_code_works_until_24_hours_and_not_after(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    clock.advance(timedelta(hours=24) - timedelta(seconds=1))
    assert check(any_database, site_id, clock, issued.code) == issued.code_id
    clock.advance(timedelta(seconds=1))
    with pytest.raises(CodeExpired):
        check(any_database, site_id, clock, issued.code)
    with pytest.raises(CodeExpired):  # checked before it expired, too late to use now
        redeem(any_database, site_id, clock, issued.code_id)


def test_a_code_is_used_once(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    redeem(any_database, site_id, clock, check(any_database, site_id, clock, issued.code))
    with pytest.raises(CodeUsed) as used:
        check(any_database, site_id, clock, issued.code)
    assert used.value.details["replaced"] is False
    with pytest.raises(CodeUsed):
        redeem(any_database, site_id, clock, issued.code_id, pin="385720")
    assert sign_in(any_database, site_id, clock) == resident_id  # the first PIN stands


def test_a_new_code_voids_the_unused_one(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    first = issue(any_database, site_id, resident_id, clock)
    second = issue(any_database, site_id, resident_id, clock, CodePurpose.PIN_RESET)
    # The old slip now reads as the latest code's wrong guess, counted like one.
    with pytest.raises(SignInFailed):
        check(any_database, site_id, clock, first.code)
    with pytest.raises(CodeUsed):  # checked before the new slip was printed
        redeem(any_database, site_id, clock, first.code_id)
    assert check(any_database, site_id, clock, second.code) == second.code_id


def test_a_pin_the_policy_refuses_keeps_the_code_usable(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    with pytest.raises(InvalidInput) as refused:
        redeem(any_database, site_id, clock, issued.code_id, pin="123456")
    assert refused.value.details["rule"] == "run"
    assert redeem(any_database, site_id, clock, issued.code_id) == resident_id


def test_a_wrong_code_an_unknown_phone_and_no_code_fail_alike(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    wrong = f"{(int(issued.code) + 1) % 10**8:08d}"
    errors = []
    for phone, code in ((PHONE, wrong), ("13911112222", issued.code), (PHONE, "12ab")):
        with pytest.raises(SignInFailed) as failed:
            check(any_database, site_id, clock, code, phone=phone)
        errors.append(failed.value.message)
    assert len(set(errors)) == 1


def test_guessing_codes_is_throttled_with_wrong_pins_on_the_same_count(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    wrong = f"{(int(issued.code) + 1) % 10**8:08d}"
    with pytest.raises(SignInFailed):
        check(any_database, site_id, clock, wrong)
    with pytest.raises(SignInFailed):  # a wrong PIN counts on the same phone
        sign_in(any_database, site_id, clock, pin="000000")
    with pytest.raises(SignInFailed):
        check(any_database, site_id, clock, wrong)
    # Three wrong tries: even the right code waits now.
    with pytest.raises(TooManySignIns) as wait:
        check(any_database, site_id, clock, issued.code)
    assert wait.value.details["retry_after"] == 30
    clock.advance(timedelta(seconds=30))
    assert check(any_database, site_id, clock, issued.code) == issued.code_id


def test_a_pin_reset_stops_the_old_pin_and_ends_kiosk_sign_ins_at_once(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    redeem(any_database, site_id, clock, issued.code_id)
    with any_database.write() as session:
        resident = session.get(Resident, resident_id)
        assert resident is not None
        token = auth_sessions.start_resident_session(session, resident=resident,
                                                     site_id=site_id, now=clock.now())  # fmt: skip
    issue(any_database, site_id, resident_id, clock, CodePurpose.PIN_RESET)
    with pytest.raises(SignInFailed):
        sign_in(any_database, site_id, clock)
    with any_database.write() as session, pytest.raises(SessionExpired):
        auth_sessions.resume_resident_session(session, token=token, now=clock.now(),
                                              idle_limit=timedelta(minutes=5))  # fmt: skip


def test_a_centre_issues_codes_to_its_members_only_and_they_work_across_the_district(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    """Like the PIN, a code signs its resident in at any centre of the district (which then
    has them as its visitor: tests/booking/test_visiting_another_centre.py)."""
    with any_database.write() as session:
        other = Site(slug="yongsheng", name_zh="永盛", name_en="Yongsheng")
        session.add(other)
        session.flush()
        other_id = other.id
    with pytest.raises(NotFound):
        issue(any_database, other_id, resident_id, clock)
    issued = issue(any_database, site_id, resident_id, clock)
    check(any_database, other_id, clock, issued.code)
    redeem(any_database, other_id, clock, issued.code_id)


def deactivate(database: Database, site_id: int, resident_id: int, clock: FrozenClock) -> None:
    from booking.people import deactivation, staff
    from booking.people.models.residents import DeactivationReason
    from booking.people.models.staff import StaffRole

    with database.write() as session:
        zhao = staff.create_staff(session, site_id=site_id, username="zhao", display_name="赵",
                                  password="a long staff password", role=StaffRole.STAFF,
                                  now=clock.now())  # fmt: skip
        deactivation.deactivate(session, staff=zhao, resident=session.get_one(Resident, resident_id),
                                reason=DeactivationReason.MOVED_AWAY, now=clock.now())  # fmt: skip


def test_a_deactivated_accounts_slip_opens_nothing_and_it_gets_no_new_code(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    issued = issue(any_database, site_id, resident_id, clock)
    deactivate(any_database, site_id, resident_id, clock)
    # Typed at the kiosk, the slip answers as a wrong code would: nothing to tell a stranger.
    with pytest.raises(SignInFailed):
        check(any_database, site_id, clock, issued.code)
    with any_database.read() as session:
        assert session.get_one(ResidentCode, issued.code_id).voided_at == clock.now()
    from booking.people.account_errors import AccountStateWrong

    with pytest.raises(AccountStateWrong):
        issue(any_database, site_id, resident_id, clock, CodePurpose.PIN_RESET)
