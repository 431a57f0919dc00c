"""Staff see each resident's messages and their delivery, and the messages given up: a send
the provider refuses is retried, and one refused every time ends in the console (the
resident's page, the list of messages not sent, and an alert), never silently lost. The SMS
goes through Tencent Cloud's SDK to the local fake provider."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fake_tencent_sms import fake_tencent_sms
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.messages import outbox, sending
from booking.messages.models.outbox import OutboxMessage
from booking.people.models.residents import Resident
from kiosk.extensions import database
from kiosk.messaging.sms_config import sms_config
from kiosk.messaging.tencent_sms import TencentSmsChannel
from tests.conftest import StaffActions
from tests.kiosk.test_tencent_sms_adapter import environ


def resident_named(app: Flask, name: str) -> int:
    with app.app_context(), database().read() as session:
        resident = session.scalar(select(Resident).where(Resident.name == name))
        assert resident is not None
        return resident.id


@pytest.fixture
def wang(app: Flask, demo: None, staff_auth: StaffActions) -> int:
    assert staff_auth.sign_in().status_code == 302
    return resident_named(app, "王秀英")


def queue(app: Flask, resident_id: int, kind: str, clock: FrozenClock) -> int:
    with app.app_context(), database().write() as session:
        site_id = session.get_one(Resident, resident_id).memberships[0].site_id
        message = outbox.enqueue(session, site_id=site_id, resident_id=resident_id, kind=kind,
                                 params=["电钻", "11-25 09:30"], now=clock.now())  # fmt: skip
        assert message is not None
        session.flush()
        return message.id


def row(page: str, message_id: int) -> str:
    found = re.search(rf'<tr data-message="{message_id}".*?</tr>', page, re.S)
    assert found is not None, f"message {message_id} not listed"
    return found.group(0)


def test_a_retried_send_and_a_given_up_one_end_in_the_staff_view(
    app: Flask, client: FlaskClient, clock: FrozenClock, wang: int, tmp_path: Path
) -> None:
    retried = queue(app, wang, "loan_due_tomorrow", clock)
    lost = queue(app, wang, "loan_overdue", clock)
    with fake_tencent_sms() as fake, app.app_context():
        channels = {outbox.SMS: TencentSmsChannel(sms_config(environ(tmp_path, fake)))}
        # The first message is refused once (a daily limit), then goes; the second is refused
        # every time (its template was registered wrongly).
        fake.answers.append("LimitExceeded.PhoneNumberDailyLimit")
        fake.refuse_templates[
            sms_config(environ(tmp_path, fake)).templates["loan_overdue"]["zh_CN"]
        ] = "InvalidParameterValue.TemplateParameterFormatError"
        now = clock.now()
        for _ in range(sending.MAX_ATTEMPTS):
            sending.send_due(database(), channels, now=now)
            now += timedelta(minutes=20)
        sending.send_due(database(), channels, now=now)
    with app.app_context(), database().read() as session:
        states = dict(session.execute(select(OutboxMessage.id, OutboxMessage.state)).all())
    assert (states[retried].value, states[lost].value) == ("sent", "gave_up")

    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert "已发送" in row(page, retried) and "明天到期" in row(page, retried)
    given_up = row(page, lost)
    assert "未发送：已放弃" in given_up and "TemplateParameterFormatError" in given_up
    assert "LimitExceeded.PhoneNumberDailyLimit" not in row(page, retried)

    failed = client.get("/staff/messages/failed").get_data(as_text=True)
    assert "王秀英" in row(failed, lost) and f'data-message="{retried}"' not in failed
    alerts = client.get("/staff/alerts").get_data(as_text=True)
    assert f"短信经 {sending.MAX_ATTEMPTS} 次尝试仍未发出" in alerts


def test_with_nothing_given_up_the_list_says_so(client: FlaskClient, wang: int) -> None:
    assert "所有短信都已发出。" in client.get("/staff/messages/failed").get_data(as_text=True)


def csrf(client: FlaskClient, resident_id: int) -> str:
    page = client.get(f"/staff/health/residents/{resident_id}").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_staff_message_the_emergency_contact_only_after_recording_consent(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    with app.app_context(), database().write() as session:
        session.get_one(Resident, wang).emergency_contact_phone = "13612345678"
    url = f"/staff/health/residents/{wang}"
    page = client.get(url).get_data(as_text=True)
    assert "居民未同意给其紧急联系人发短信。" in page and "请紧急联系人与中心联系" not in page
    refused = client.post(f"{url}/contact-message", data={"csrf_token": csrf(client, wang)},
                          follow_redirects=True)  # fmt: skip
    assert "没有发短信：居民未同意" in refused.get_data(as_text=True)
    client.post(f"{url}/contact-consent", data={"answer": "yes", "csrf_token": csrf(client, wang)})
    assert "请紧急联系人与中心联系" in client.get(url).get_data(as_text=True)
    sent = client.post(f"{url}/contact-message", data={"csrf_token": csrf(client, wang)},
                       follow_redirects=True)  # fmt: skip
    assert "给紧急联系人的短信正在发送。" in sent.get_data(as_text=True)
    with app.app_context(), database().read() as session:
        [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.to_contact)).all()
        assert (message.phone, message.kind, message.params[0]) == (
            "13612345678",
            "health_contact",
            "王秀英",
        )
        message_id = message.id
    resident_page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert "健康随访（发给紧急联系人）" in row(resident_page, message_id)


def test_an_answer_not_offered_records_nothing(app: Flask, client: FlaskClient, wang: int) -> None:
    url = f"/staff/health/residents/{wang}"
    answer = client.post(f"{url}/contact-consent", data={"answer": "perhaps",
                         "csrf_token": csrf(client, wang)}, follow_redirects=True)  # fmt: skip
    assert "请选择居民的答复。" in answer.get_data(as_text=True)
    assert "居民未同意给其紧急联系人发短信。" in client.get(url).get_data(as_text=True)
