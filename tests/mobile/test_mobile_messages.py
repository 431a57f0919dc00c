"""My messages on the phone, on SQLite and on PostgreSQL: what was sent to the resident,
newest first, with what became of each in plain words (never a sign-in code again), and the
kiosk's choice per kind of message of getting it by SMS, which the kiosk then shows too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from booking.messages import kinds, outbox, preferences
from booking.messages.models.outbox import OutboxMessage
from booking.messages.models.preferences import MessagePreference
from booking.messages.templates import TEMPLATES
from kiosk.extensions import database
from kiosk.messaging.words import kind_label
from tests.demo_app import demo_app_on
from tests.kiosk.conftest import KioskActions
from tests.mobile.conftest import PhoneActions, alert_of, resident_id


@pytest.fixture
def centre(empty_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    yield from demo_app_on(empty_database_url, tmp_path, clock)


def signed_in(app: Flask) -> PhoneActions:
    phone = PhoneActions(app.test_client())
    assert phone.sign_in().status_code == 302
    return phone


def in_english(phone: PhoneActions) -> None:
    phone.post("/m/language", locale="en", next="/m/messages")


def queue_message(
    app: Flask, clock: FrozenClock, kind: str, params: list[str], *, site_slug: str = "xinhua"
) -> OutboxMessage:
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, site_slug)
        message = outbox.enqueue(session, site_id=site.id, resident_id=resident_id(app),
                                 kind=kind, params=params, now=clock.now())  # fmt: skip
        assert message is not None
        session.flush()
        session.expunge(message)
        return message


def send(app: Flask, clock: FrozenClock, message_id: int, *, fails: bool = False) -> None:
    with app.app_context(), database().write() as session:
        message = session.get_one(OutboxMessage, message_id)
        message.start_sending(clock.now())
        if fails:
            message.mark_failed(clock.now(), "provider down", max_attempts=1,
                                first_backoff=timedelta(minutes=1))  # fmt: skip
        else:
            message.mark_sent(clock.now(), "ref-1")


def order_of_messages(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="message-(\d+)"', page)]


def test_messages_show_newest_first_with_their_delivery_in_plain_words(
    centre: Flask, clock: FrozenClock
) -> None:
    due = queue_message(centre, clock, kinds.LOAN_DUE_TOMORROW, ["电钻", "11月25日"])
    send(centre, clock, due.id)
    clock.advance(timedelta(minutes=5))
    overdue = queue_message(centre, clock, kinds.LOAN_OVERDUE, ["电钻", "11月25日"])
    send(centre, clock, overdue.id, fails=True)
    clock.advance(timedelta(minutes=5))
    waiting = queue_message(centre, clock, kinds.LOAN_ESCALATED, ["电钻"])
    phone = signed_in(centre)
    page = phone.page("/m/messages")
    assert order_of_messages(page)[:3] == [waiting.id, overdue.id, due.id]
    # The text as the phone received it, in the resident's language (Chinese).
    assert "您借的电钻明天（11月25日）到期，请按时归还。" in page
    assert "工具明天到期" in page and "等待发送" in page
    in_english(phone)
    english = phone.page("/m/messages")
    assert "Sent to the phone" in english
    assert "Could not be sent. The notice is still at the kiosk." in english
    assert "Waiting to be sent" in english
    assert "provider down" not in english  # the provider's answer is for staff


def test_a_sign_in_code_is_listed_but_its_code_never_shown(
    centre: Flask, clock: FrozenClock
) -> None:
    code = queue_message(centre, clock, kinds.SIGN_IN_CODE, ["48213579"])
    page = signed_in(centre).page("/m/messages")
    assert f'id="message-{code.id}"' in page and "48213579" not in page


def test_another_centres_messages_are_not_shown(centre: Flask, clock: FrozenClock) -> None:
    with centre.app_context(), database().write() as session:
        session.add(Site(slug="elsewhere", name_zh="别处", name_en="Elsewhere"))
    theirs = queue_message(centre, clock, kinds.LOAN_OVERDUE, ["梯子", "11月20日"],
                           site_slug="elsewhere")  # fmt: skip
    page = signed_in(centre).page("/m/messages")
    assert f'id="message-{theirs.id}"' not in page and "梯子" not in page


def test_turning_a_kind_off_and_on_is_the_kiosks_choice_too(centre: Flask) -> None:
    phone = signed_in(centre)
    page = phone.page("/m/messages")
    assert 'id="choice-loan_overdue"' in page
    turned_off = phone.post("/m/messages/choose", kind=kinds.LOAN_OVERDUE, sms="off")
    assert turned_off.status_code == 303
    assert turned_off.headers["Location"].endswith("/m/messages#choice-loan_overdue")
    assert "不再发短信：工具已逾期" in phone.page("/m/messages")
    with centre.app_context(), database().read() as session:
        assert not preferences.wants(session, resident_id=resident_id(centre),
                                     kind=kinds.LOAN_OVERDUE)  # fmt: skip
    # The kiosk reads the same choice.
    kiosk = KioskActions(centre.test_client())
    kiosk.sign_in()
    kiosk_page = kiosk.client.get("/kiosk/messages").get_data(as_text=True)
    overdue_row = kiosk_page.split('id="choice-loan_overdue"', 1)[1].split("</li>", 1)[0]
    assert "不发到我的手机" in overdue_row
    phone.post("/m/messages/choose", kind=kinds.LOAN_OVERDUE, sms="on")
    with centre.app_context(), database().read() as session:
        assert preferences.wants(session, resident_id=resident_id(centre), kind=kinds.LOAN_OVERDUE)


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": kinds.SIGN_IN_CODE, "sms": "off"},  # always sent: not a choice
        {"kind": kinds.HEALTH_CONTACT, "sms": "on"},  # needs consent recorded by staff
        {"kind": "no_such_kind", "sms": "off"},
        {"kind": kinds.LOAN_OVERDUE, "sms": "maybe"},
        {"kind": "字" * 300, "sms": "off"},
        {},
    ],
)
def test_a_choice_not_offered_is_refused_in_words_and_records_nothing(
    centre: Flask, fields: dict[str, str]
) -> None:
    phone = signed_in(centre)
    refused = phone.post("/m/messages/choose", **fields)
    assert refused.status_code == 400
    assert alert_of(refused.get_data(as_text=True)) == "这个选项不存在，请用页面上的按钮。"
    with centre.app_context(), database().read() as session:
        assert session.scalar(select(func.count()).select_from(MessagePreference)) == 0


def test_my_messages_asks_to_sign_in_first(centre: Flask) -> None:
    response = centre.test_client().get("/m/messages")
    assert response.status_code == 302 and response.headers["Location"].endswith("/m/sign-in")


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_every_kind_of_message_has_a_name_of_its_own(app: Flask, language: str) -> None:
    # Three tool notices once read "Notice at the kiosk" alike on the choices page, so a
    # resident could not tell which one they were turning off.
    # The app picks its language from the session, not Accept-Language: set it as a page would.
    with app.test_request_context(), force_locale(language):
        fallback = kind_label("a kind added later")
        names = {kind: kind_label(kind) for kind in TEMPLATES}
    assert fallback not in names.values(), [k for k, n in names.items() if n == fallback]
    assert len(set(names.values())) == len(names)
    # Each run reads the names in its language (the zh run once read them in English).
    assert names["no_show"] == {"zh_CN": "爽约记录", "en": "Missed booking recorded"}[language]
