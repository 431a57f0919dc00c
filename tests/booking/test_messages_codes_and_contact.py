"""The one-time sign-in code by SMS (at any hour, the code kept in clear only until it has
left), and the health follow-up to an emergency contact (only with consent, no values)."""

from __future__ import annotations

import pytest
from booking_centre import Centre, at
from messages_phone import Phone, outbox_rows

from booking.core.db import Database
from booking.core.errors import SignInFailed
from booking.messages import health_contact, outbox, sending, sign_in_codes
from booking.messages.models.outbox import MessageState
from booking.people import one_time_codes
from booking.people.models.residents import Resident


def test_a_sign_in_code_is_sent_at_once_even_in_quiet_hours_and_then_forgotten(
    any_database: Database, centre: Centre
) -> None:
    with any_database.write() as session:
        assert sign_in_codes.send_sign_in_code(
            session, site_id=centre.site_id, phone="139 0000 0001", now=at(23)
        )
    phone = Phone()
    assert sending.send_due(any_database, {outbox.SMS: phone}, now=at(23)).sent == 1
    [got] = phone.received
    with any_database.write() as session:
        row = one_time_codes.check_code(
            session, site_id=centre.site_id, phone="13900000001", code=got.params[0],
            now=at(23, 5), client="test",
        )  # fmt: skip
        assert row.resident_id == centre.residents[0]
    [message] = outbox_rows(any_database, "sign_in_code")
    assert message.state is MessageState.SENT and message.params == [""]


def test_a_code_asked_for_again_within_a_minute_is_refused(
    any_database: Database, centre: Centre
) -> None:
    with any_database.write() as session:
        sign_in_codes.send_sign_in_code(session, site_id=centre.site_id, phone="13900000001",
                                        now=at(10))  # fmt: skip
    with pytest.raises(sign_in_codes.CodeRequestedTooSoon), any_database.write() as session:
        sign_in_codes.send_sign_in_code(session, site_id=centre.site_id, phone="13900000001",
                                        now=at(10).replace(second=59))  # fmt: skip
    assert len(outbox_rows(any_database)) == 1


def test_an_unknown_phone_gets_no_code_and_no_message(
    any_database: Database, centre: Centre
) -> None:
    with any_database.write() as session:
        assert not sign_in_codes.send_sign_in_code(
            session, site_id=centre.site_id, phone="13700000000", now=at(10)
        )
    assert outbox_rows(any_database) == []
    with pytest.raises(SignInFailed), any_database.write() as session:
        one_time_codes.check_code(session, site_id=centre.site_id, phone="13700000000",
                                  code="12345678", now=at(10), client="test")  # fmt: skip


def give_contact(db: Database, resident_id: int) -> None:
    with db.write() as session:
        resident = session.get_one(Resident, resident_id)
        resident.emergency_contact_name, resident.emergency_contact_phone = "王小明", "13612345678"


def test_the_emergency_contact_is_messaged_only_with_recorded_consent(
    any_database: Database, centre: Centre
) -> None:
    give_contact(any_database, centre.residents[0])
    with pytest.raises(health_contact.NoContactConsent), any_database.write() as session:
        health_contact.message_contact(session, site_id=centre.site_id,
                                       resident_id=centre.residents[0], now=at(10))  # fmt: skip
    assert outbox_rows(any_database) == []
    with any_database.write() as session:
        health_contact.record_consent(session, resident_id=centre.residents[0], consents=True,
                                      staff_id=centre.staff_id, now=at(9, 45))  # fmt: skip
        health_contact.message_contact(session, site_id=centre.site_id,
                                       resident_id=centre.residents[0], now=at(10))  # fmt: skip
    [message] = outbox_rows(any_database, "health_contact")
    # The resident's name and the centre: nothing about the reading, no number at all.
    assert (message.phone, message.to_contact, message.params) == (
        "13612345678",
        True,
        ["王秀英", "演示中心"],
    )


def test_consent_without_a_contact_phone_sends_nothing(
    any_database: Database, centre: Centre
) -> None:
    with any_database.write() as session:
        health_contact.record_consent(session, resident_id=centre.residents[1], consents=True,
                                      staff_id=centre.staff_id, now=at(9, 45))  # fmt: skip
    with pytest.raises(health_contact.NoContactConsent), any_database.write() as session:
        health_contact.message_contact(session, site_id=centre.site_id,
                                       resident_id=centre.residents[1], now=at(10))  # fmt: skip
