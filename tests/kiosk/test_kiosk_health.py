"""The kiosk's blood-pressure pages: consent notice, measure now, result, history, withdrawal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health import operations as health
from booking.health import pairing as health_pairing
from booking.health.models.consents import HealthConsent
from booking.health.models.readings import BpReading
from booking.people.models.residents import Resident
from devices.models.device import Device, DeviceKind
from kiosk.extensions import database
from tests.kiosk.conftest import KioskActions, csrf_token_of

BP = "/kiosk/services/blood-pressure"
FLAGS = {
    "body_movement": False,
    "cuff_too_loose": False,
    "irregular_pulse": False,
    "pulse_out_of_range": False,
    "improper_position": False,
}
WANG = ("13800000001", "275139")  # consent given in the demo seed
LI = ("13800000002", "386204")  # no consent


@pytest.fixture
def terminal(app: Flask, demo: None, clock: FrozenClock) -> str:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        session.add(
            Device(
                site_id=site.id,
                device_id="bp-1",
                kind=DeviceKind.BP_TERMINAL,
                name="血压计",
                mqtt_password_hash="$7$unused",
                capabilities={"card_reader": True},
                online=True,
                created_at=clock.now(),
            )
        )
    return "bp-1"


def resident_id(app: Flask, phone: str) -> int:
    with app.app_context(), database().read() as session:
        return session.scalars(select(Resident.id).where(Resident.phone == phone)).one()


def post(kiosk: KioskActions, path: str, **data: str) -> str:
    page = kiosk.client.get(BP).get_data(as_text=True)
    response = kiosk.client.post(path, data={"csrf_token": csrf_token_of(page), **data})
    assert response.status_code in (200, 302), response.status_code
    return response.headers.get("Location", "")


def reading_arrives(
    app: Flask, clock: FrozenClock, systolic: int, diastolic: int, **flags: bool
) -> None:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        health_pairing.reading_received(
            session,
            site_id=site.id,
            device_id="bp-1",
            card_id=None,
            now=clock.now(),
            systolic=systolic,
            diastolic=diastolic,
            mean_arterial_pressure=round(diastolic + (systolic - diastolic) / 3, 1),
            unit="mmHg",
            pulse=74,
            flags={**FLAGS, **flags},
            measured_at=clock.now() - timedelta(seconds=2),
        )


def measure(
    kiosk: KioskActions,
    app: Flask,
    clock: FrozenClock,
    systolic: int = 148,
    diastolic: int = 86,
    **flags: bool,
) -> str:
    """Press "measure now", let the terminal's reading arrive, and return the result page."""
    waiting = post(kiosk, f"{BP}/measure", device="bp-1")
    reading_arrives(app, clock, systolic, diastolic, **flags)
    status = kiosk.client.get(f"{waiting}/status").get_json()
    assert status["status"] == "done"
    return kiosk.client.get(status["result_url"]).get_data(as_text=True)


def test_the_service_page_asks_a_signed_out_visitor_to_sign_in(
    client: FlaskClient, terminal: str
) -> None:
    page = client.get(BP).get_data(as_text=True)
    assert "登录" in page and "即将上线" not in page


def test_a_resident_without_consent_sees_the_notice_with_give_and_decline(
    kiosk: KioskActions, terminal: str
) -> None:
    kiosk.sign_in(*LI)
    page = kiosk.client.get(BP).get_data(as_text=True)
    for words in ("为什么", "可以随时", "删除"):
        assert words in page
    assert f'name="notice_version" value="{health_consent.NOTICE_VERSION}"' in page
    assert f"{BP}/consent" in page and f"{BP}/decline" in page


def test_giving_consent_at_the_kiosk_records_channel_and_notice_version(
    kiosk: KioskActions, app: Flask, terminal: str
) -> None:
    kiosk.sign_in(*LI)
    post(kiosk, f"{BP}/consent", notice_version=health_consent.NOTICE_VERSION)
    with app.app_context(), database().read() as session:
        consent = health.consent_in_force(session, resident_id(app, LI[0]))
        assert consent is not None
        assert (consent.channel.value, consent.notice_version) == (
            "kiosk",
            health_consent.NOTICE_VERSION,
        )
    assert "立即测量" in kiosk.client.get(BP).get_data(as_text=True)


def test_consent_to_an_outdated_notice_is_not_recorded(
    kiosk: KioskActions, app: Flask, terminal: str
) -> None:
    kiosk.sign_in(*LI)
    post(kiosk, f"{BP}/consent", notice_version="2020-01-v0")
    with app.app_context(), database().read() as session:
        assert health.consent_in_force(session, resident_id(app, LI[0])) is None


def test_declining_records_nothing_and_says_measuring_still_works(
    kiosk: KioskActions, app: Flask, terminal: str
) -> None:
    kiosk.sign_in(*LI)
    post(kiosk, f"{BP}/decline")
    assert "不会保存" in kiosk.home()
    with app.app_context(), database().read() as session:
        assert (
            session.scalars(
                select(HealthConsent).where(HealthConsent.resident_id == resident_id(app, LI[0]))
            ).first()
            is None
        )


def test_measure_now_without_consent_shows_the_notice_instead(
    kiosk: KioskActions, terminal: str
) -> None:
    kiosk.sign_in(*LI)
    assert post(kiosk, f"{BP}/measure", device="bp-1").endswith(BP)


def test_measure_now_opens_a_waiting_screen_that_polls_its_status(
    kiosk: KioskActions, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    waiting = post(kiosk, f"{BP}/measure", device="bp-1")
    page = kiosk.client.get(waiting).get_data(as_text=True)
    assert "data-bp-wait" in page and f'data-status-url="{waiting}/status"' in page
    assert kiosk.client.get(f"{waiting}/status").get_json() == {"status": "waiting", "open": True}


def test_measure_now_with_an_unknown_terminal_changes_nothing(
    kiosk: KioskActions, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    assert post(kiosk, f"{BP}/measure", device="locker-a").endswith(BP)


def test_the_result_shows_the_values_large_with_level_words_and_advice(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    page = measure(kiosk, app, clock, 148, 86)
    assert re.search(r"data-bp-systolic>148<.*data-bp-diastolic>86<", page, re.S)
    assert "bp-level-2" in page
    assert "偏高（1级）" in page or "1级" in page
    assert "医生" in page  # the guideline's advice at this level
    assert "不是诊断" in page or "不能作为诊断" in page


def test_a_grade_3_result_says_to_tell_the_staff_now(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    page = measure(kiosk, app, clock, 186, 112)
    assert "bp-level-4" in page and "工作人员" in page and "120" in page


def test_status_flags_are_explained_on_the_result(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    page = measure(kiosk, app, clock, 128, 82, body_movement=True)
    assert "移动" in page or "动了" in page


def test_the_status_answer_never_carries_a_value(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    waiting = post(kiosk, f"{BP}/measure", device="bp-1")
    reading_arrives(app, clock, 163, 97)
    body = kiosk.client.get(f"{waiting}/status").get_data(as_text=True)
    assert "163" not in body and "97" not in body


def test_after_sign_out_the_result_and_history_show_nothing(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    waiting = post(kiosk, f"{BP}/measure", device="bp-1")
    reading_arrives(app, clock, 163, 97)
    result_url = kiosk.client.get(f"{waiting}/status").get_json()["result_url"]
    kiosk.sign_out()
    for path in (result_url, f"{BP}/history", waiting):
        response = kiosk.client.get(path, follow_redirects=True)
        assert "163" not in response.get_data(as_text=True)
        assert response.headers["Cache-Control"] == "no-store"
    assert kiosk.client.get(f"{waiting}/status").status_code == 401


def test_another_resident_cannot_open_someone_elses_result(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    waiting = post(kiosk, f"{BP}/measure", device="bp-1")
    reading_arrives(app, clock, 163, 97)
    result_url = kiosk.client.get(f"{waiting}/status").get_json()["result_url"]
    kiosk.sign_in(*LI)
    assert kiosk.client.get(result_url).status_code == 404
    assert kiosk.client.get(f"{waiting}/status").status_code == 404


def test_history_shows_the_last_30_readings_with_a_server_drawn_chart(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    for i in range(32):
        post(kiosk, f"{BP}/measure", device="bp-1")
        reading_arrives(app, clock, 120 + i, 80)
        clock.advance(timedelta(hours=8))
        kiosk.sign_in(*WANG)  # a new day: sign in again, as the idle timeout would ask
    page = kiosk.client.get(f"{BP}/history").get_data(as_text=True)
    assert page.count('class="bp-point-systolic"') == 30
    assert "<svg" in page and "http://" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org", ""
    )
    assert page.count("<tr class=") == 30
    assert ">151 / 80<" in page and ">121 / 80<" not in page


def test_a_terminal_already_paired_with_someone_else_is_busy(
    kiosk: KioskActions, client: FlaskClient, app: Flask, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    post(kiosk, f"{BP}/measure", device="bp-1")
    other = KioskActions(app.test_client())
    other.sign_in(*LI)
    post(other, f"{BP}/consent", notice_version=health_consent.NOTICE_VERSION)
    assert post(other, f"{BP}/measure", device="bp-1").endswith(BP)
    assert "正在使用" in other.client.get(BP).get_data(as_text=True)


def test_withdrawing_at_the_kiosk_deletes_the_readings(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    measure(kiosk, app, clock)
    assert "1" in kiosk.client.get(f"{BP}/withdraw").get_data(as_text=True)
    post(kiosk, f"{BP}/withdraw")
    with app.app_context(), database().read() as session:
        assert session.scalars(select(BpReading)).first() is None
        assert health.consent_in_force(session, resident_id(app, WANG[0])) is None
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "health.consent_withdrawn" in actions
    assert "为什么" in kiosk.client.get(BP).get_data(as_text=True)  # the notice again


def test_health_pages_carry_no_inline_style_or_script(
    kiosk: KioskActions, app: Flask, clock: FrozenClock, terminal: str
) -> None:
    kiosk.sign_in(*WANG)
    pages = [measure(kiosk, app, clock), kiosk.client.get(f"{BP}/history").get_data(as_text=True)]
    for page in pages:
        assert " style=" not in page and "<style" not in page and "<script>" not in page
