from __future__ import annotations

from datetime import timedelta

import pytest

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import Conflict, InvalidInput, ResidentLockedOut, SignInFailed
from booking.core.models.sites import Site
from booking.people import residents
from booking.people.models.sign_in_throttles import SignInThrottle

PHONE = "13900000001"


@pytest.fixture
def site_id(any_database: Database) -> int:
    with any_database.write() as session:
        site = Site(slug="demo", name_zh="演示中心", name_en="Demo centre")
        session.add(site)
        session.flush()
        return site.id


@pytest.fixture
def resident_id(any_database: Database, site_id: int, clock: FrozenClock) -> int:
    with any_database.write() as session:
        return residents.register_resident(
            session, site_id=site_id, name="王秀英", phone=PHONE, pin="1234", now=clock.now()
        ).id


def sign_in(
    database: Database, site_id: int, clock: FrozenClock, pin: str, phone: str = PHONE
) -> int:
    """Sign in the way the kiosk does: the failure count is committed even when sign-in fails."""
    with database.write() as session:
        try:
            return residents.authenticate_resident(
                session, site_id=site_id, phone=phone, pin=pin, now=clock.now()
            ).id
        except (SignInFailed, ResidentLockedOut) as error:
            session.commit()
            raise error


def test_right_pin_signs_the_resident_in(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    assert sign_in(any_database, site_id, clock, "1234") == resident_id


def test_unknown_phone_and_wrong_pin_fail_with_the_same_error(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    with pytest.raises(SignInFailed) as wrong_pin:
        sign_in(any_database, site_id, clock, "9999")
    with pytest.raises(SignInFailed) as unknown_phone:
        sign_in(any_database, site_id, clock, "9999", phone="13911112222")
    assert wrong_pin.value.code == unknown_phone.value.code
    assert wrong_pin.value.message == unknown_phone.value.message


def test_a_member_of_another_site_cannot_sign_in_here(
    any_database: Database, resident_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        other = Site(slug="other", name_zh="别处", name_en="Elsewhere")
        session.add(other)
        session.flush()
        other_id = other.id
    with pytest.raises(SignInFailed):
        sign_in(any_database, other_id, clock, "1234")


def test_five_wrong_pins_lock_the_phone_for_fifteen_minutes(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in(any_database, site_id, clock, "0000")
    with pytest.raises(ResidentLockedOut) as locked:
        sign_in(any_database, site_id, clock, "0000")
    assert locked.value.details["until"] == clock.now() + timedelta(minutes=15)


def test_the_right_pin_is_refused_while_locked_out(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    for _ in range(5):
        with pytest.raises((SignInFailed, ResidentLockedOut)):
            sign_in(any_database, site_id, clock, "0000")
    clock.advance(timedelta(minutes=14))
    with pytest.raises(ResidentLockedOut):
        sign_in(any_database, site_id, clock, "1234")


def test_the_lockout_ends_after_fifteen_minutes(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    for _ in range(5):
        with pytest.raises((SignInFailed, ResidentLockedOut)):
            sign_in(any_database, site_id, clock, "0000")
    clock.advance(timedelta(minutes=15, seconds=1))
    assert sign_in(any_database, site_id, clock, "1234") == resident_id


def test_unknown_phones_are_locked_out_like_known_ones(
    any_database: Database, site_id: int, clock: FrozenClock
) -> None:
    # Otherwise a lockout would reveal which phone numbers are registered.
    for _ in range(4):
        with pytest.raises(SignInFailed):
            sign_in(any_database, site_id, clock, "0000", phone="13911112222")
    with pytest.raises(ResidentLockedOut):
        sign_in(any_database, site_id, clock, "0000", phone="13911112222")


def test_a_successful_sign_in_clears_earlier_failures(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    for _ in range(3):
        with pytest.raises(SignInFailed):
            sign_in(any_database, site_id, clock, "0000")
    sign_in(any_database, site_id, clock, "1234")
    with any_database.read() as session:
        assert session.get(SignInThrottle, PHONE) is None


@pytest.mark.parametrize(
    ("name", "phone", "pin", "field"),
    [
        ("", "13900000009", "1234", "name"),
        ("张三", "12345", "1234", "phone"),
        ("张三", "23900000009", "1234", "phone"),
        ("张三", "13900000009", "123", "pin"),
        ("张三", "13900000009", "1234567", "pin"),
        ("张三", "13900000009", "12a4", "pin"),
    ],
)
def test_registration_rejects_bad_input_naming_the_field(
    any_database: Database,
    site_id: int,
    clock: FrozenClock,
    name: str,
    phone: str,
    pin: str,
    field: str,
) -> None:
    with any_database.write() as session, pytest.raises(InvalidInput) as error:
        residents.register_resident(
            session, site_id=site_id, name=name, phone=phone, pin=pin, now=clock.now()
        )
    assert error.value.details["field"] == field


def test_a_phone_can_be_registered_only_once(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session, pytest.raises(Conflict):
        residents.register_resident(
            session, site_id=site_id, name="李四", phone=PHONE, pin="4321", now=clock.now()
        )


def test_pins_are_stored_hashed(any_database: Database, resident_id: int) -> None:
    from booking.people.models.residents import Resident

    with any_database.read() as session:
        resident = session.get(Resident, resident_id)
        assert resident is not None
        assert "1234" not in resident.pin_hash
        assert resident.pin_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("name", "masked"),
    [("王秀英", "王*英"), ("张伟", "张*"), ("欧阳娜娜", "欧**娜"), ("李", "李")],
)
def test_names_are_masked_for_kiosk_screens(name: str, masked: str) -> None:
    from booking.people.models.residents import mask_name

    assert mask_name(name) == masked
