"""Resetting a forgotten PIN with the code sent by SMS instead of a printed slip: offered only
where SMS reaches phones, the message holds the code alone (never a PIN) and goes to the
resident's own phone at once, and the code signs the resident in on their phone. Refused in
words, with nothing changed, where SMS does not reach phones, for a button not offered, or
for a resident of another centre."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from booking.core.clock import FrozenClock
from booking.messages import kinds
from booking.messages.models.outbox import OutboxMessage
from booking.people.models.resident_codes import ResidentCode
from kiosk.extensions import database
from kiosk.staff.people import pin_reset
from tests.conftest import StaffActions
from tests.kiosk.conftest import DEMO_PHONE, DEMO_PIN, KioskActions
from tests.mobile.conftest import PhoneActions, resident_id
from tests.resident_rows import resident_of_another_centre

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def signed_in(demo: None, staff_auth: StaffActions) -> None:
    assert staff_auth.sign_in().status_code == 302


@pytest.fixture
def texting(app: Flask) -> None:
    """The deployment has an SMS provider that reaches phones."""
    app.config["SMS_PROVIDER"] = "tencent"


def words(app: Flask, text: object) -> str:
    """The console's words in Chinese, as the page shows them."""
    with app.test_request_context(), force_locale("zh_CN"):
        return str(text)


def reset(
    client: FlaskClient, staff_auth: StaffActions, resident: int, **fields: str
) -> TestResponse:
    data = {"csrf_token": staff_auth.csrf_token(), "identity_checked": "y", **fields}
    return client.post(f"/staff/residents/{resident}/pin-reset", data=data)


def messages(app: Flask) -> list[OutboxMessage]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return found


def codes_issued(app: Flask) -> int:
    with app.app_context(), database().read() as session:
        return session.scalar(select(func.count()).select_from(ResidentCode)) or 0


def the_old_pin_still_works(app: Flask) -> bool:
    kiosk = KioskActions(app.test_client())
    return kiosk.sign_in(DEMO_PHONE, DEMO_PIN).status_code == 302


@pytest.mark.usefixtures("signed_in", "texting")
def test_the_code_goes_by_sms_to_the_residents_phone_and_signs_them_in_there(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    wang = resident_id(app)
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert 'id="send-code-by-sms"' in page and DEMO_PHONE[-4:] in page
    sent = reset(client, staff_auth, wang, deliver="sms")
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith(f"/staff/residents/{wang}#pin-heading")
    [message] = messages(app)
    assert (message.kind, message.phone, message.to_contact) == (
        kinds.SIGN_IN_CODE,
        DEMO_PHONE,
        False,
    )
    assert message.ignores_quiet_hours  # the resident is waiting for it, at any hour
    [code] = message.params
    assert len(code) == 8 and DEMO_PIN not in code  # the code alone: never a PIN
    assert not the_old_pin_still_works(app)
    # The resident types it on their phone and chooses a new PIN there.
    phone = PhoneActions(app.test_client())
    signed = phone.sign_in_with_code(code)
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/m/pin")
    shown = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert (
        code not in shown and words(app, pin_reset.SENT_BY_SMS) % {"tail": DEMO_PHONE[-4:]} in shown
    )


@pytest.mark.usefixtures("signed_in")
def test_where_sms_reaches_no_phone_only_the_slip_is_offered_and_sms_is_refused(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    wang = resident_id(app)
    assert 'id="send-code-by-sms"' not in client.get(f"/staff/residents/{wang}").get_data(
        as_text=True
    )
    refused = reset(client, staff_auth, wang, deliver="sms")
    assert refused.status_code == 400
    assert words(app, pin_reset.NO_SMS_HERE) in refused.get_data(as_text=True)
    assert messages(app) == [] and codes_issued(app) == 0 and the_old_pin_still_works(app)


@pytest.mark.usefixtures("signed_in", "texting")
@pytest.mark.parametrize("deliver", ["fax", "", "sms\x00", "字" * 300])
def test_a_button_not_offered_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, deliver: str
) -> None:
    refused = reset(client, staff_auth, resident_id(app), deliver=deliver)
    assert refused.status_code == 400
    assert messages(app) == [] and codes_issued(app) == 0 and the_old_pin_still_works(app)


@pytest.mark.usefixtures("signed_in", "texting")
def test_the_slip_is_still_printed_when_asked_for(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    printed = reset(client, staff_auth, resident_id(app), deliver="print")
    assert printed.status_code == 200 and 'class="slip-code"' in printed.get_data(as_text=True)
    assert messages(app) == []


@pytest.mark.usefixtures("signed_in", "texting")
def test_a_resident_of_another_centre_gets_no_code_from_here(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    other = resident_of_another_centre(app, clock)
    assert reset(client, staff_auth, other, deliver="sms").status_code == 404
    assert messages(app) == [] and codes_issued(app) == 0
