from __future__ import annotations

from datetime import timedelta

import pytest

from booking.core import audit
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import Conflict, InvalidInput, SignInFailed, TooManySignIns
from booking.core.models.sites import Site
from booking.people import residents, sign_in_guard
from booking.people.models.sign_in_failures import SignInKind

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
            session, site_id=site_id, name="王秀英", phone=PHONE, pin="275139", now=clock.now()
        ).id


LOBBY = "10.0.0.10"  # the kiosk in the lobby
STRANGER = "203.0.113.66"  # somebody else, somewhere else


def sign_in(
    database: Database, site_id: int, clock: FrozenClock, pin: str, phone: str = PHONE,
    client: str = LOBBY,
) -> int:  # fmt: skip
    """Sign in the way the kiosk does: the failure is committed even when sign-in fails."""
    with database.write() as session:
        try:
            return residents.authenticate_resident(
                session, site_id=site_id, phone=phone, pin=pin, now=clock.now(), client=client
            ).id
        except (SignInFailed, TooManySignIns) as error:
            session.commit()
            raise error


def fail(database: Database, site_id: int, clock: FrozenClock, times: int, **kwargs: str) -> None:
    for _ in range(times):
        with pytest.raises(SignInFailed):
            sign_in(database, site_id, clock, "0000", **kwargs)


def test_right_pin_signs_the_resident_in(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    assert sign_in(any_database, site_id, clock, "275139") == resident_id


def test_unknown_phone_and_wrong_pin_fail_with_the_same_error(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    with pytest.raises(SignInFailed) as wrong_pin:
        sign_in(any_database, site_id, clock, "9999")
    with pytest.raises(SignInFailed) as unknown_phone:
        sign_in(any_database, site_id, clock, "9999", phone="13911112222")
    assert wrong_pin.value.code == unknown_phone.value.code
    assert wrong_pin.value.message == unknown_phone.value.message


def test_a_member_of_another_centre_of_the_district_signs_in_here_too(
    any_database: Database, resident_id: int, clock: FrozenClock
) -> None:
    # One deployment is one district: the same phone and PIN open every centre of it
    # (booking.people.visits; tests/booking/test_visiting_another_centre.py).
    with any_database.write() as session:
        other = Site(slug="other", name_zh="别处", name_en="Elsewhere")
        session.add(other)
        session.flush()
        other_id = other.id
    assert sign_in(any_database, other_id, clock, "275139") == resident_id


def test_two_slips_cost_nothing_then_each_try_waits_twice_as_long(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    fail(any_database, site_id, clock, 3)  # the third wrong PIN: 30 s to wait
    for wait in (30, 60, 120, 240):
        with pytest.raises(TooManySignIns) as refused:
            sign_in(any_database, site_id, clock, "275139")  # even the right PIN waits
        assert refused.value.details["retry_after"] == wait
        clock.advance(timedelta(seconds=wait))
        fail(any_database, site_id, clock, 1)


def test_the_right_pin_signs_in_once_the_wait_is_over(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    fail(any_database, site_id, clock, 3)
    clock.advance(timedelta(seconds=30))
    fail(any_database, site_id, clock, 1)  # the fourth: a minute to wait
    clock.advance(timedelta(seconds=59))
    with pytest.raises(TooManySignIns):
        sign_in(any_database, site_id, clock, "275139")
    clock.advance(timedelta(seconds=1))
    assert sign_in(any_database, site_id, clock, "275139") == resident_id


def test_the_delay_never_grows_beyond_fifteen_minutes(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    assert [sign_in_guard.delay_after(n).total_seconds() for n in range(1, 11)] == [
        0, 0, 30, 60, 120, 240, 480, 900, 900, 900,
    ]  # fmt: skip


def test_a_stranger_elsewhere_cannot_lock_the_resident_out_of_the_lobby_kiosk(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    fail(any_database, site_id, clock, 3, client=STRANGER)
    with pytest.raises(TooManySignIns):
        sign_in(any_database, site_id, clock, "0000", client=STRANGER)
    assert sign_in(any_database, site_id, clock, "275139", client=LOBBY) == resident_id


def test_one_client_is_stopped_after_ten_wrong_pins_across_different_phones(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    for n in range(10):
        fail(any_database, site_id, clock, 1, phone=f"139111100{n:02d}", client=STRANGER)
        clock.advance(timedelta(seconds=10))
    with pytest.raises(TooManySignIns) as refused:  # the eleventh phone, the right PIN even
        sign_in(any_database, site_id, clock, "275139", client=STRANGER)
    # Free again when the first of the ten is ten minutes old: 10 min - 100 s from now.
    assert refused.value.details["retry_after"] == 600 - 100
    assert sign_in(any_database, site_id, clock, "275139", client=LOBBY) == resident_id
    clock.advance(timedelta(seconds=500))
    assert sign_in(any_database, site_id, clock, "275139", client=STRANGER) == resident_id


def test_unknown_phones_are_slowed_like_known_ones(
    any_database: Database, site_id: int, clock: FrozenClock
) -> None:
    # Otherwise the throttle would reveal which phone numbers are registered.
    fail(any_database, site_id, clock, 3, phone="13911112222")
    with pytest.raises(TooManySignIns) as refused:
        sign_in(any_database, site_id, clock, "0000", phone="13911112222")
    assert refused.value.details["retry_after"] == 30


def test_a_successful_sign_in_clears_the_clients_earlier_slips(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    fail(any_database, site_id, clock, 2)
    sign_in(any_database, site_id, clock, "275139")
    fail(any_database, site_id, clock, 2)  # two more slips cost nothing again
    with any_database.read() as session:
        assert sign_in_guard.failures_of(session, SignInKind.RESIDENT, PHONE, now=clock.now()) == 2


def test_each_failed_sign_in_is_audited_with_client_and_phone_never_the_pin(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    fail(any_database, site_id, clock, 1, client=STRANGER, phone="13911112222")
    with any_database.read() as session:
        [entry] = audit.entries(session, site_id=site_id, action="resident.sign_in_failed")
        assert (entry.actor, entry.subject, entry.at) == (
            f"client:{STRANGER}", "phone:13911112222", clock.now(),
        )  # fmt: skip
        assert entry.detail == {"client": STRANGER}


@pytest.mark.parametrize(
    ("name", "phone", "pin", "field"),
    [
        ("", "13900000009", "275139", "name"),
        ("张三", "12345", "275139", "phone"),
        ("张三", "23900000009", "275139", "phone"),
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
            session, site_id=site_id, name="李四", phone=PHONE, pin="386204", now=clock.now()
        )


def test_pins_are_stored_hashed(any_database: Database, resident_id: int) -> None:
    from booking.people.models.residents import Resident

    with any_database.read() as session:
        resident = session.get(Resident, resident_id)
        assert resident is not None
        assert "275139" not in resident.pin_hash
        assert resident.pin_hash.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("name", "masked"),
    [("王秀英", "王*英"), ("张伟", "张*"), ("欧阳娜娜", "欧**娜"), ("李", "李")],
)
def test_names_are_masked_for_kiosk_screens(name: str, masked: str) -> None:
    from booking.people.models.residents import mask_name

    assert mask_name(name) == masked
