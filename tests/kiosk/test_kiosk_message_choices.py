"""At the kiosk, a signed-in resident chooses per kind of message whether it also comes by
SMS; a kind turned off puts nothing in the outbox, and a choice not offered changes nothing."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.messages import preferences
from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.kiosk.conftest import DEMO_PHONE, KioskActions


def choice_of(page: str, kind: str) -> str:
    found = re.search(rf'<li class="choice" id="choice-{kind}">.*?</li>', page, re.S)
    assert found is not None, kind
    return found.group(0)


def resident_choices(app: Flask) -> dict[str, bool]:
    with app.app_context(), database().read() as session:
        resident_id = session.scalar(select(Resident.id).where(Resident.phone == DEMO_PHONE))
        assert resident_id is not None
        return preferences.choices_of(session, resident_id=resident_id)


def test_the_page_asks_a_resident_to_sign_in_first(client: FlaskClient, demo: None) -> None:
    response = client.get("/kiosk/messages")
    assert response.status_code == 302 and "/kiosk/sign-in" in response.headers["Location"]


def test_every_kind_is_on_until_the_resident_turns_one_off(
    app: Flask, client: FlaskClient, kiosk: KioskActions
) -> None:
    kiosk.sign_in()
    page = client.get("/kiosk/messages").get_data(as_text=True)
    assert "我的短信" in page
    reminder = choice_of(page, "booking_reminder")
    assert "预约开始前的提醒" in reminder and "发到我的手机" in reminder
    response = client.post("/kiosk/messages", data={
        "kind": "booking_reminder", "sms": "off", "csrf_token": kiosk.csrf_token(),
    })  # fmt: skip
    assert response.status_code == 303
    page = client.get("/kiosk/messages").get_data(as_text=True)
    assert "不发到我的手机" in choice_of(page, "booking_reminder")
    assert "不再发短信：预约开始前的提醒" in page
    chosen = resident_choices(app)
    assert chosen["booking_reminder"] is False and chosen["loan_due_tomorrow"] is True


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "booking_reminder", "sms": "maybe"},
        {"kind": "sign_in_code", "sms": "off"},
        {"kind": "health_contact", "sms": "on"},
        {"kind": "", "sms": "off"},
    ],
)
def test_a_choice_not_offered_is_refused_in_words_and_changes_nothing(
    app: Flask, client: FlaskClient, kiosk: KioskActions, data: dict[str, str]
) -> None:
    kiosk.sign_in()
    response = client.post("/kiosk/messages", data={**data, "csrf_token": kiosk.csrf_token()})
    assert response.status_code == 400
    assert "这个选项不存在" in response.get_data(as_text=True)
    assert all(resident_choices(app).values())
