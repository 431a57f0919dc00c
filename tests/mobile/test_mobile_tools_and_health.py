"""The phone's read-only pages: tools on loan with their due dates, and blood-pressure
readings only while the resident's consent is in force."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health import operations as health
from booking.health.models.consents import ConsentChannel
from booking.health.values import Values
from booking.lending.loans import start_loan
from booking.lending.models.loans import Loan, LoanChannel
from booking.lending.models.tools import Item
from kiosk.extensions import database
from tests.mobile.conftest import (
    DEMO_PHONE,
    OTHER_PHONE,
    OTHER_PIN,
    PhoneActions,
    alert_of,
    resident_id,
)

FLAGS = {"body_movement": False, "cuff_too_loose": False, "irregular_pulse": False,
         "pulse_out_of_range": False, "improper_position": False}  # fmt: skip


def store_reading(app: Flask, clock: FrozenClock, phone: str, systolic: int) -> None:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        health.store_reading(
            session, site_id=site.id, resident_id=resident_id(app, phone), device_id="bp-1",
            identified_by="kiosk", now=clock.now(),
            values=Values(systolic, 82, 100.0, 71, "mmHg", FLAGS, clock.now()),
        )  # fmt: skip


def test_my_tools_lists_open_loans_with_due_dates(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    phone.sign_in()
    assert "您目前没有借用的工具" in phone.page("/m/tools")
    with app.app_context(), database().write() as session:
        item = session.scalars(select(Item).where(Item.locker_device_id.is_(None))).first()
        assert item is not None
        tag = item.asset_tag
        start_loan(session, item=item, resident_id=resident_id(app), channel=LoanChannel.COUNTER,
                   now=clock.now(), loan_days=7)  # fmt: skip
    text = phone.page("/m/tools")
    assert tag in text
    assert "12月1日" in text  # due a week after Tuesday 24 November
    # Another resident sees none of it.
    phone.post("/m/sign-out")
    phone.sign_in(OTHER_PHONE, OTHER_PIN)
    assert tag not in phone.page("/m/tools")


def test_readings_are_shown_while_consent_is_in_force(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    store_reading(app, clock, DEMO_PHONE, 151)
    phone.sign_in()
    text = phone.page("/m/blood-pressure")
    assert "151 / 82" in text
    assert 'id="no-consent"' not in text


def test_no_readings_once_consent_is_withdrawn(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    store_reading(app, clock, DEMO_PHONE, 151)
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        health_consent.withdraw_consent(
            session, site_id=site.id, resident_id=resident_id(app),
            channel=ConsentChannel.KIOSK, now=clock.now(),
        )  # fmt: skip
    clock.advance(timedelta(minutes=1))
    phone.sign_in()
    text = phone.page("/m/blood-pressure")
    assert 'id="no-consent"' in text
    assert "151" not in text


def test_a_resident_who_never_agreed_sees_only_how_to_agree(phone: PhoneActions) -> None:
    phone.sign_in(OTHER_PHONE, OTHER_PIN)
    text = phone.page("/m/blood-pressure")
    assert 'id="no-consent"' in text and "<table" not in text


def lend_at_counter(app: Flask, clock: FrozenClock, phone: str = DEMO_PHONE) -> int:
    with app.app_context(), database().write() as session:
        item = session.scalars(select(Item).where(Item.locker_device_id.is_(None))).first()
        assert item is not None
        return start_loan(session, item=item, resident_id=resident_id(app, phone),
                          channel=LoanChannel.COUNTER, now=clock.now(), loan_days=7).id  # fmt: skip


def due_of(app: Flask, loan_id: int) -> tuple[object, int]:
    with app.app_context(), database().read() as session:
        loan = session.get_one(Loan, loan_id)
        return loan.due_at, loan.renewals


def test_a_loan_is_kept_longer_from_the_phone_by_the_kiosks_rule(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    phone.sign_in()
    loan_id = lend_at_counter(app, clock)
    due, _ = due_of(app, loan_id)
    assert f"/m/tools/{loan_id}/renew" in phone.page("/m/tools")
    renewed = phone.post(f"/m/tools/{loan_id}/renew")
    assert renewed.status_code == 302 and renewed.headers["Location"].endswith("/m/tools")
    assert "续借成功" in phone.page("/m/tools")
    assert due_of(app, loan_id)[1] == 1 and due_of(app, loan_id)[0] > due  # type: ignore[operator]
    # The policy allows one renewal: the second is refused in words and changes nothing.
    # The page comes again with the reason, not a redirect: the refusal is its answer.
    again = phone.post(f"/m/tools/{loan_id}/renew")
    assert again.status_code == 409
    assert "续借次数已用完" in alert_of(again.get_data(as_text=True))
    assert due_of(app, loan_id)[1] == 1


def test_nobody_renews_another_residents_loan_from_their_phone(
    phone: PhoneActions, app: Flask, clock: FrozenClock
) -> None:
    loan_id = lend_at_counter(app, clock, OTHER_PHONE)
    phone.sign_in()
    phone.post(f"/m/tools/{loan_id}/renew")
    assert due_of(app, loan_id)[1] == 0
