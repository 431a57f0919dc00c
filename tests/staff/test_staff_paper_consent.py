"""Staff record a consent the resident signed on paper, and a withdrawal made on paper or by
phone, from the resident's health page in the console."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from booking.core.clock import FrozenClock
from booking.core.errors import InvalidInput
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health import operations as health
from booking.health import pairing as health_pairing
from booking.health.models.consents import ConsentChannel, HealthConsent
from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.conftest import StaffActions
from tests.staff.district_sites import add_dongfang

FLAGS = {
    "body_movement": False,
    "cuff_too_loose": False,
    "irregular_pulse": False,
    "pulse_out_of_range": False,
    "improper_position": False,
}
# The test clock's day at the demo centre (01:30 UTC is 09:30 in Shanghai).
TODAY = date(2026, 11, 24)


def resident_id(app: Flask, phone: str) -> int:
    with app.app_context(), database().read() as session:
        return session.scalars(select(Resident.id).where(Resident.phone == phone)).one()


@pytest.fixture
def li(app: Flask, demo: None) -> int:
    """李建国: a member of the demo centre since the test clock's now, with no consent."""
    return resident_id(app, "13800000002")


@pytest.fixture
def wang(app: Flask, demo: None, clock: FrozenClock) -> int:
    """王秀英: consent in the demo seed, and two stored readings."""
    rid = resident_id(app, "13800000001")
    for minutes in (30, 2):
        feed_reading(app, clock, card_id="CARD0001", minutes_ago=minutes)
    with app.app_context(), database().read() as session:
        assert health.count_readings(session, rid) == 2
    return rid


def feed_reading(
    app: Flask, clock: FrozenClock, *, card_id: str, minutes_ago: int
) -> health_pairing.ReadingOutcome:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        return health_pairing.reading_received(
            session,
            site_id=site.id,
            device_id="bp-1",
            card_id=card_id,
            now=clock.now(),
            systolic=128,
            diastolic=82,
            mean_arterial_pressure=97.3,
            unit="mmHg",
            pulse=71,
            flags=FLAGS,
            measured_at=clock.now() - timedelta(minutes=minutes_ago),
        )


@pytest.fixture
def signed_in(client: FlaskClient, staff_auth: StaffActions, demo: None) -> FlaskClient:
    staff_auth.sign_in()
    return client


def csrf(client: FlaskClient, rid: int) -> str:
    page = client.get(f"/staff/health/residents/{rid}").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def record_consent(client: FlaskClient, rid: int, token: str, **fields: str) -> TestResponse:
    data = {"csrf_token": token, "signed": "y", "signed_on": TODAY.isoformat(), **fields}
    return client.post(f"/staff/health/residents/{rid}/paper-consent", data=data)


def record_withdrawal(client: FlaskClient, rid: int, token: str, **fields: str) -> TestResponse:
    data = {"csrf_token": token, "channel": "phone", "confirmed": "y", **fields}
    return client.post(f"/staff/health/residents/{rid}/withdrawal", data=data)


def consents(app: Flask, rid: int) -> list[tuple[ConsentChannel, str, bool]]:
    with app.app_context(), database().read() as session:
        rows = session.scalars(
            select(HealthConsent).where(HealthConsent.resident_id == rid).order_by(HealthConsent.id)
        )
        return [(c.channel, c.notice_version, c.withdrawn_at is None) for c in rows]


def audit_of(app: Flask, action: str, rid: int) -> list[tuple[str, int | None, dict[str, object]]]:
    with app.app_context(), database().read() as session:
        return [
            (e.actor, e.staff_id, dict(e.detail))
            for e in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == action, AuditEntry.subject == f"resident:{rid}")
                .order_by(AuditEntry.id)
            )
        ]


def readings_of(app: Flask, rid: int) -> int:
    with app.app_context(), database().read() as session:
        return health.count_readings(session, rid)


# --- paper consent ----------------------------------------------------------------------------


def test_the_health_page_offers_a_paper_consent_naming_the_current_notice_version(
    signed_in: FlaskClient, li: int
) -> None:
    page = signed_in.get(f"/staff/health/residents/{li}").get_data(as_text=True)
    assert 'id="paper-consent"' in page and 'id="withdrawal"' not in page
    assert f"说明版本 {health_consent.NOTICE_VERSION}" in page
    assert f'value="{TODAY.isoformat()}"' in page


def test_staff_record_a_paper_consent_with_its_channel_notice_version_and_themselves_as_actor(
    app: Flask, signed_in: FlaskClient, li: int
) -> None:
    response = record_consent(signed_in, li, csrf(signed_in, li))
    assert response.status_code == 303
    assert consents(app, li) == [(ConsentChannel.PAPER, health_consent.NOTICE_VERSION, True)]
    [(actor, staff_id, detail)] = audit_of(app, "health.consent_given", li)
    assert actor == "staff:zhao" and staff_id is not None
    assert detail == {"channel": "paper", "notice_version": health_consent.NOTICE_VERSION}
    page = signed_in.get(f"/staff/health/residents/{li}").get_data(as_text=True)
    assert "已登记纸质同意" in page and "纸质同意书" in page


def test_a_paper_consent_signed_on_an_earlier_day_is_dated_that_day(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, li: int
) -> None:
    # Two days after the resident joined, staff record the form signed the day after joining.
    clock.advance(timedelta(days=2))
    staff_auth.sign_in()
    signed_on = TODAY + timedelta(days=1)
    response = record_consent(client, li, csrf(client, li), signed_on=signed_on.isoformat())
    assert response.status_code == 303
    with app.app_context(), database().read() as session:
        consent = health.consent_in_force(session, li)
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        assert consent is not None
        assert consent.given_at.astimezone(ZoneInfo(site.timezone)).date() == signed_on
    [(_, _, detail)] = audit_of(app, "health.consent_given", li)
    assert str(detail["given_at"]).startswith(signed_on.isoformat())


def test_a_paper_consent_without_the_confirmation_is_refused_and_changes_nothing(
    app: Flask, signed_in: FlaskClient, li: int
) -> None:
    token = csrf(signed_in, li)
    response = signed_in.post(
        f"/staff/health/residents/{li}/paper-consent",
        data={"csrf_token": token, "signed_on": TODAY.isoformat()},
    )
    assert response.status_code == 400
    assert "请勾选，确认居民已签署同意书" in response.get_data(as_text=True)
    assert consents(app, li) == []
    assert audit_of(app, "health.consent_given", li) == []


def test_a_form_sent_back_with_errors_switches_language_back_to_the_page_it_came_from(
    signed_in: FlaskClient, li: int
) -> None:
    page = f"/staff/health/residents/{li}"
    response = signed_in.post(
        f"{page}/paper-consent",
        data={"csrf_token": csrf(signed_in, li), "signed_on": TODAY.isoformat()},
        headers={"Referer": f"http://localhost{page}"},
    )
    assert response.status_code == 400
    # Not the POST-only address, which a GET after the language change would meet with a 405.
    assert f'name="next" type="hidden" value="{page}"' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("signed_on", "message"),
    [
        ((TODAY + timedelta(days=1)).isoformat(), "签署日期不能晚于今天"),
        ((TODAY - timedelta(days=1)).isoformat(), "签署日期不能早于居民加入本中心的日期"),
        ("24/11/2026", "请按“年-月-日”填写日期"),
        ("", "请填写同意书的签署日期"),
    ],
    ids=["future", "before-membership", "not-a-date", "empty"],
)
def test_a_paper_consent_with_a_bad_date_is_refused_and_changes_nothing(
    app: Flask, signed_in: FlaskClient, li: int, signed_on: str, message: str
) -> None:
    response = record_consent(signed_in, li, csrf(signed_in, li), signed_on=signed_on)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert consents(app, li) == []


def test_a_second_consent_while_one_is_in_force_changes_nothing(
    app: Flask, signed_in: FlaskClient, wang: int
) -> None:
    before = consents(app, wang)
    given_before = audit_of(app, "health.consent_given", wang)
    response = record_consent(signed_in, wang, csrf(signed_in, wang))
    assert response.status_code == 303
    assert consents(app, wang) == before
    assert audit_of(app, "health.consent_given", wang) == given_before
    page = signed_in.get(f"/staff/health/residents/{wang}").get_data(as_text=True)
    assert "该居民已有有效的同意，未做任何更改" in page


def test_a_form_without_csrf_token_changes_nothing(
    app: Flask, signed_in: FlaskClient, li: int
) -> None:
    response = signed_in.post(
        f"/staff/health/residents/{li}/paper-consent",
        data={"signed": "y", "signed_on": TODAY.isoformat()},
    )
    assert response.status_code == 400
    assert consents(app, li) == []


def test_the_kiosk_terminal_keeps_a_reading_after_a_paper_consent(
    app: Flask, signed_in: FlaskClient, clock: FrozenClock, li: int
) -> None:
    assert feed_reading(app, clock, card_id="CARD0002", minutes_ago=5).result == "no_consent"
    record_consent(signed_in, li, csrf(signed_in, li))
    assert feed_reading(app, clock, card_id="CARD0002", minutes_ago=1).result == "stored"
    assert readings_of(app, li) == 1


# --- withdrawal -------------------------------------------------------------------------------


def test_a_withdrawal_deletes_every_reading_and_says_how_many(
    app: Flask, signed_in: FlaskClient, wang: int
) -> None:
    page = signed_in.get(f"/staff/health/residents/{wang}").get_data(as_text=True)
    assert "此居民保存的全部 2 条血压记录将被删除，无法恢复" in page
    response = record_withdrawal(signed_in, wang, csrf(signed_in, wang))
    assert response.status_code == 303
    assert readings_of(app, wang) == 0
    assert [in_force for *_, in_force in consents(app, wang)] == [False]
    [(actor, staff_id, detail)] = audit_of(app, "health.consent_withdrawn", wang)
    assert actor == "staff:zhao" and staff_id is not None
    assert detail == {"channel": "phone", "readings_deleted": 2}
    page = signed_in.get(f"/staff/health/residents/{wang}").get_data(as_text=True)
    assert "已删除 2 条保存的血压记录" in page


def test_a_withdrawal_records_the_channel_it_came_by(
    app: Flask, signed_in: FlaskClient, wang: int
) -> None:
    record_withdrawal(signed_in, wang, csrf(signed_in, wang), channel="paper")
    with app.app_context(), database().read() as session:
        consent = session.scalars(
            select(HealthConsent).where(HealthConsent.resident_id == wang)
        ).one()
        assert consent.withdrawn_channel is ConsentChannel.PAPER


@pytest.mark.parametrize(
    "fields",
    [{"confirmed": ""}, {"channel": ""}, {"channel": "kiosk"}],
    ids=["no-confirmation", "no-channel", "kiosk-channel"],
)
def test_a_withdrawal_without_confirmation_or_a_staff_channel_keeps_everything(
    app: Flask, signed_in: FlaskClient, wang: int, fields: dict[str, str]
) -> None:
    token = csrf(signed_in, wang)
    data = {"csrf_token": token, "channel": "phone", "confirmed": "y", **fields}
    data = {k: v for k, v in data.items() if v}
    response = signed_in.post(f"/staff/health/residents/{wang}/withdrawal", data=data)
    assert response.status_code == 400
    assert readings_of(app, wang) == 2
    assert [in_force for *_, in_force in consents(app, wang)] == [True]
    assert audit_of(app, "health.consent_withdrawn", wang) == []


def test_a_withdrawal_without_a_consent_in_force_says_so_and_changes_nothing(
    app: Flask, signed_in: FlaskClient, li: int
) -> None:
    response = record_withdrawal(signed_in, li, csrf(signed_in, li))
    assert response.status_code == 303
    assert consents(app, li) == []
    assert audit_of(app, "health.consent_withdrawn", li) == []
    page = signed_in.get(f"/staff/health/residents/{li}").get_data(as_text=True)
    assert "该居民没有有效的同意，未做任何更改" in page


# --- whose resident ---------------------------------------------------------------------------


def test_a_resident_of_another_site_is_not_found_and_nothing_changes(
    app: Flask, signed_in: FlaskClient, clock: FrozenClock, li: int
) -> None:
    other = add_dongfang(app, clock)
    stranger = other.resident_id
    with app.app_context(), database().write() as session:
        health_consent.give_consent(
            session,
            resident_id=stranger,
            site_id=other.site_id,
            channel=ConsentChannel.KIOSK,
            now=clock.now(),
        )
    token = csrf(signed_in, li)
    assert record_withdrawal(signed_in, stranger, token).status_code == 404
    assert record_consent(signed_in, stranger, token).status_code == 404
    assert consents(app, stranger) == [(ConsentChannel.KIOSK, health_consent.NOTICE_VERSION, True)]
    assert audit_of(app, "health.consent_withdrawn", stranger) == []


def test_an_unknown_resident_is_not_found(signed_in: FlaskClient, li: int) -> None:
    token = csrf(signed_in, li)
    assert record_consent(signed_in, 99999, token).status_code == 404
    assert record_withdrawal(signed_in, 99999, token).status_code == 404


# --- the date rule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_on", "reason"),
    [(date(2026, 11, 25), "future"), (date(2026, 11, 19), "before_membership")],
)
def test_a_signing_date_after_today_or_before_joining_is_invalid(
    signed_on: date, reason: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        health_consent.check_signed_on(signed_on, today=TODAY, joined_on=date(2026, 11, 20))
    assert refused.value.details["reason"] == reason


@pytest.mark.parametrize("signed_on", [date(2026, 11, 20), TODAY])
def test_a_signing_date_from_joining_to_today_is_accepted(signed_on: date) -> None:
    health_consent.check_signed_on(signed_on, today=TODAY, joined_on=date(2026, 11, 20))
