"""On the phone page a resident without a PIN asks for a sign-in code by text message: the
code goes through the outbox and Tencent Cloud's own SDK (to a local fake of the API that
checks the signature), and the code the phone received signs them in. Where no SMS provider
reaches phones (the demo's log channel), the button is not there and the route refuses."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_tencent_sms import SECRET_ID, SECRET_KEY, FakeTencentSms, fake_tencent_sms
from flask import Flask
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.messages import outbox, sending
from booking.messages.models.outbox import OutboxMessage
from booking.messages.templates import TEMPLATES
from kiosk.extensions import database
from kiosk.messaging.sms_config import sms_config
from kiosk.messaging.tencent_sms import TencentSmsChannel
from tests.mobile.conftest import DEMO_PHONE, PhoneActions, alert_of

UNKNOWN_PHONE = "13912345678"


@pytest.fixture
def fake() -> Iterator[FakeTencentSms]:
    with fake_tencent_sms() as running:
        yield running


@pytest.fixture
def texting(app: Flask) -> None:
    """The deployment has an SMS provider that reaches phones."""
    app.config["SMS_PROVIDER"] = "tencent"


def sms_channel(tmp_path: Path, fake: FakeTencentSms) -> TencentSmsChannel:
    ids = {kind: {"zh_CN": f"{100 + n}", "en": f"{200 + n}"} for n, kind in enumerate(TEMPLATES)}
    ids["generic"] = {"zh_CN": "100000", "en": "200000"}
    (tmp_path / "templates.json").write_text(json.dumps(ids))
    return TencentSmsChannel(
        sms_config(
            {
                "LINLI_SMS_PROVIDER": "tencent", "LINLI_SMS_SECRET_ID": SECRET_ID,
                "LINLI_SMS_SECRET_KEY": SECRET_KEY, "LINLI_SMS_APP_ID": "1400000001",
                "LINLI_SMS_SIGN_NAME": "邻里中心",
                "LINLI_SMS_TEMPLATES": str(tmp_path / "templates.json"),
                "LINLI_SMS_ENDPOINT": f"http://127.0.0.1:{fake.port}",
            }
        )
    )  # fmt: skip


def same_words(page: str, phone: str) -> str:
    """The page as a stranger compares it: without the phone they typed, and without the CSRF
    token, which is signed with the time and so changes from one second to the next."""
    return re.sub(r'(content|value)="[\w.-]{40,}"', "", page.replace(phone, ""))


def codes_queued(app: Flask) -> list[OutboxMessage]:
    with app.app_context(), database().read() as session:
        rows = list(
            session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sign_in_code"))
        )
        session.expunge_all()
        return rows


def test_without_a_provider_that_reaches_phones_no_code_is_offered(
    phone: PhoneActions, app: Flask
) -> None:
    assert 'id="send-code"' not in phone.page("/m/code")
    assert phone.post("/m/code/send", phone=DEMO_PHONE).status_code == 404
    assert codes_queued(app) == []


def test_the_code_texted_to_the_phone_signs_the_resident_in(
    phone: PhoneActions, app: Flask, clock: FrozenClock, texting: None, fake: FakeTencentSms,
    tmp_path: Path,
) -> None:  # fmt: skip
    assert 'id="send-code"' in phone.page("/m/code")
    asked = phone.post("/m/code/send", phone=DEMO_PHONE)
    assert asked.status_code == 302
    page = phone.client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "短信" in page and f'value="{DEMO_PHONE}"' in page
    with app.app_context():
        sent = sending.send_due(
            database(), {outbox.SMS: sms_channel(tmp_path, fake)}, now=clock.now()
        )
    assert sent == sending.Round(sent=1)
    [request] = fake.received
    assert request["PhoneNumberSet"] == [f"+86{DEMO_PHONE}"]
    [code] = request["TemplateParamSet"]
    assert len(code) == 8 and code.isdigit()
    # Once sent, the outbox keeps no copy of the code.
    assert codes_queued(app)[0].params == [""]
    signed_in = phone.sign_in_with_code(code)
    assert signed_in.status_code == 302 and phone.is_signed_in()


def test_a_stranger_learns_nothing_about_who_is_a_member(
    phone: PhoneActions, app: Flask, texting: None
) -> None:
    member = phone.post("/m/code/send", phone=DEMO_PHONE)
    member_page = phone.client.get(member.headers["Location"]).get_data(as_text=True)
    stranger = phone.post("/m/code/send", phone=UNKNOWN_PHONE)
    stranger_page = phone.client.get(stranger.headers["Location"]).get_data(as_text=True)
    assert (member.status_code, stranger.status_code) == (302, 302)
    assert same_words(member_page, DEMO_PHONE) == same_words(stranger_page, UNKNOWN_PHONE)
    assert [m.phone for m in codes_queued(app)] == [DEMO_PHONE]


def test_a_second_request_within_the_minute_is_answered_in_words_and_sends_nothing(
    phone: PhoneActions, app: Flask, texting: None
) -> None:
    assert phone.post("/m/code/send", phone=DEMO_PHONE).status_code == 302
    again = phone.post("/m/code/send", phone=DEMO_PHONE)
    assert again.status_code == 429
    assert "一分钟" in alert_of(again.get_data(as_text=True))
    assert len(codes_queued(app)) == 1


@pytest.mark.parametrize("typed", ["", "1380000", "abc", "1" * 40])
def test_a_phone_number_that_cannot_be_one_is_refused_in_words(
    phone: PhoneActions, app: Flask, texting: None, typed: str
) -> None:
    refused = phone.post("/m/code/send", phone=typed)
    assert refused.status_code == 422
    assert "手机" in alert_of(refused.get_data(as_text=True))
    assert codes_queued(app) == []
