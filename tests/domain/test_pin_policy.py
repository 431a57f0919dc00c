"""Which PINs a resident may choose: six digits, no run, no repeat, none of the commonest, not
the end of their own phone; and a PIN set before the policy is changed at the next sign-in."""

from __future__ import annotations

import pytest

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import InvalidInput
from booking.core.models.sites import Site
from booking.people import passwords, pin_policy, residents
from booking.people.models.residents import Resident

PHONE = "13900275813"


@pytest.mark.parametrize(
    ("pin", "rule"),
    [
        ("1234", "length"), ("12345", "length"), ("1234567", "length"), ("12a456", "length"),
        ("１２３４５６", "length"),  # full-width digits are digits to str.isdigit, not to us
        ("123456", "run"), ("654321", "run"), ("345678", "run"), ("890123", "run"),
        ("111111", "repeat"), ("121212", "repeat"), ("123123", "repeat"), ("090909", "repeat"),
        ("520131", "common"), ("147258", "common"), ("888666", "common"),
        ("275813", "phone"),
    ],
)  # fmt: skip
def test_a_pin_anyone_would_try_first_is_refused_and_why_is_named(pin: str, rule: str) -> None:
    assert pin_policy.weakness(pin, phone=PHONE) == rule
    with pytest.raises(InvalidInput) as refused:
        pin_policy.check_new_pin(pin, phone=PHONE)
    assert refused.value.details == {"field": "pin", "rule": rule}


@pytest.mark.parametrize("pin", ["275139", "386204", "902417", "135792"])
def test_six_digits_without_a_pattern_may_be_chosen(pin: str) -> None:
    assert pin_policy.weakness(pin, phone=PHONE) is None


def test_registration_refuses_a_weak_pin(any_database: Database, clock: FrozenClock) -> None:
    with any_database.write() as session:
        site = Site(slug="demo", name_zh="演示中心", name_en="Demo centre")
        session.add(site)
        session.flush()
        with pytest.raises(InvalidInput):
            residents.register_resident(
                session, site_id=site.id, name="王秀英", phone=PHONE, pin="123456",
                now=clock.now(),
            )  # fmt: skip


def test_a_pin_set_before_the_policy_signs_in_once_and_must_then_be_changed(
    any_database: Database, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        site = Site(slug="demo", name_zh="演示中心", name_en="Demo centre")
        session.add(site)
        session.flush()
        site_id = site.id
        member = residents.register_resident(
            session, site_id=site_id, name="王秀英", phone=PHONE, pin="275139", now=clock.now()
        )
        member.set_pin(passwords.hash_secret("1234"))  # as PINs were set before the policy
        resident_id = member.id
    with any_database.write() as session:
        residents.authenticate_resident(
            session, site_id=site_id, phone=PHONE, pin="1234", now=clock.now(), client="kiosk"
        )
    with any_database.write() as session:
        assert session.get_one(Resident, resident_id).pin_change_required
        with pytest.raises(InvalidInput):
            residents.change_pin(session, resident_id=resident_id, site_id=site_id,
                                 new_pin="111111", now=clock.now())  # fmt: skip
    with any_database.write() as session:
        residents.change_pin(session, resident_id=resident_id, site_id=site_id,
                             new_pin="902417", now=clock.now())  # fmt: skip
    with any_database.write() as session:
        changed = residents.authenticate_resident(
            session, site_id=site_id, phone=PHONE, pin="902417", now=clock.now(), client="kiosk"
        )
        assert not changed.pin_change_required
