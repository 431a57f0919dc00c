"""Enrolling a resident in the console and resetting a PIN: possible duplicates are shown
before saving, bad input is refused in Chinese and saves nothing, and the slip shows the
one-time code once; staff never see or type a PIN."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.health.models.consents import HealthConsent
from booking.people import passwords
from booking.people.models.resident_codes import CodePurpose, ResidentCode
from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.conftest import StaffActions
from tests.kiosk.conftest import DEMO_PHONE, DEMO_PIN, KioskActions
from tests.page_text import without_csrf_tokens
from tests.resident_rows import resident_of_another_centre

pytestmark = pytest.mark.usefixtures("demo")

NEW_PHONE = "13900000123"
CODE = re.compile(r'<p class="slip-code"[^>]*>(\d{4}) (\d{4})</p>')


@pytest.fixture
def signed_in(demo: None, staff_auth: StaffActions) -> None:
    assert staff_auth.sign_in().status_code == 302


def form(staff_auth: StaffActions, **changes: str) -> dict[str, str]:
    data = {
        "name": "周桂兰", "phone": NEW_PHONE, "birth_year": "1950", "building": "3号楼",
        "unit": "2单元", "room": "301", "lives_alone": "y", "emergency_contact_name": "周强",
        "emergency_contact_phone": "021-5555 0101", "preferred_language": "zh_CN",
        "csrf_token": staff_auth.csrf_token(),
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def enrol(client: FlaskClient, staff_auth: StaffActions, **changes: str) -> Any:
    return client.post("/staff/residents/new", data=form(staff_auth, **changes))


def residents_named(app: Flask, name: str) -> list[Resident]:
    """The residents of that name, as they are now (detached, their columns loaded)."""
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(Resident).where(Resident.name == name)))
        session.expunge_all()
        return found


def code_on(page: str) -> str:
    match = CODE.search(page)
    assert match, "no code on the slip"
    return match.group(1) + match.group(2)


@pytest.mark.usefixtures("signed_in")
def test_the_enrol_page_is_in_chinese_and_linked_from_the_resident_list(
    client: FlaskClient,
) -> None:
    assert 'href="/staff/residents/new"' in client.get("/staff/residents").get_data(as_text=True)
    page = client.get("/staff/residents/new").get_data(as_text=True)
    assert "登记居民" in page and "出生年份" in page and "紧急联系人" in page


@pytest.mark.usefixtures("signed_in")
def test_enrolling_saves_the_resident_and_shows_the_code_once_on_a_bilingual_slip(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    response = enrol(client, staff_auth, health_consent="y")
    assert response.status_code == 200
    page = without_csrf_tokens(response.get_data(as_text=True))
    code = code_on(page)
    assert page.count(f"{code[:4]} {code[4:]}") == 1 and code not in page
    assert "周*兰" in page and "0123" in page  # masked name, phone's last four
    assert "2026-11-25 09:30" in page  # 24 hours on, on Shanghai's clock
    assert page.index("欢迎！请设置您的自助机密码") < page.index("Welcome! Choose your kiosk PIN")
    assert "Type your mobile phone number and the 8-digit code" in page
    (resident,) = residents_named(app, "周桂兰")
    assert resident.pin_hash is None and resident.address == "3号楼 2单元 301"
    assert resident.emergency_contact_phone == "02155550101" and resident.birth_year == 1950
    with app.app_context(), database().read() as session:
        row = session.scalar(select(ResidentCode).where(ResidentCode.resident_id == resident.id))
        assert row is not None and row.purpose is CodePurpose.ENROL
        assert passwords.verify_secret(row.code_hash, code)
        assert session.scalar(select(HealthConsent).where(HealthConsent.resident_id == resident.id))
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject == f"resident:{resident.id}")
        ).all()
        assert {"resident.enrolled", "resident.code_issued.enrol", "health.consent_given"} <= set(
            actions
        )
        details = session.scalars(select(AuditEntry.detail)).all()
        assert all(code not in str(detail) for detail in details)
    # The resident's page does not show the code again, only that one is waiting.
    resident_page = client.get(f"/staff/residents/{resident.id}").get_data(as_text=True)
    assert code[:4] not in without_csrf_tokens(resident_page)
    assert "还没有设置密码" in resident_page


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": ""}, "请输入居民姓名。"),
        ({"name": "王" * 61}, "最多 60 个字。"),
        ({"phone": "1380000"}, "手机号码为 11 位数字，以 1 开头。"),
        ({"birth_year": "一九五〇"}, "请用 4 位数字填写出生年份，例如 1948。"),
        ({"birth_year": "1850"}, "出生年份须在 1906 年到今年之间。"),
        ({"birth_year": "2030"}, "出生年份须在 1906 年到今年之间。"),
        ({"emergency_contact_phone": ""}, "请同时填写紧急联系人的电话，或两项都不填。"),
        ({"emergency_contact_phone": "abc"}, "紧急联系电话为 7 到 20 位数字（可填带区号的座机）。"),
        ({"preferred_language": "fr"}, "请选择中文或 English。"),
        ({"room": "9" * 21}, "最多 20 个字。"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_saves_nothing(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, changes: dict[str, str],
    message: str,
) -> None:  # fmt: skip
    response = enrol(client, staff_auth, **changes)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert residents_named(app, "周桂兰") == [] or "name" in changes


@pytest.mark.usefixtures("signed_in")
def test_a_form_without_its_csrf_token_changes_nothing(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    response = client.post("/staff/residents/new", data=form(staff_auth, csrf_token=""))
    assert response.status_code == 400
    assert residents_named(app, "周桂兰") == []


@pytest.mark.usefixtures("signed_in")
def test_a_same_name_is_shown_before_saving_and_saved_only_when_staff_confirm(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    first = enrol(client, staff_auth, name="王秀英")
    assert first.status_code == 409
    page = first.get_data(as_text=True)
    assert "已有同名居民" in page and 'data-match="same_name"' in page
    assert 'name="confirmed_different"' in page
    (existing,) = residents_named(app, "王秀英")
    assert f'href="/staff/residents/{existing.id}"' in page
    second = enrol(client, staff_auth, name="王秀英", confirmed_different="y")
    assert second.status_code == 200 and CODE.search(second.get_data(as_text=True))
    assert len(residents_named(app, "王秀英")) == 2


@pytest.mark.usefixtures("signed_in")
def test_a_phone_already_a_member_here_is_refused_with_a_link_to_that_resident(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    response = enrol(client, staff_auth, phone=DEMO_PHONE, confirmed_different="y")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    (existing,) = residents_named(app, "王秀英")
    assert "本中心已有使用这个手机号码的居民。" in page
    assert f'href="/staff/residents/{existing.id}"' in page
    assert 'name="confirmed_different"' not in page  # nothing to confirm past
    assert residents_named(app, "周桂兰") == []


@pytest.mark.usefixtures("signed_in")
def test_a_person_of_another_centre_with_a_pin_joins_here_without_a_slip(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    other_id = resident_of_another_centre(app, clock)
    with app.app_context(), database().read() as session:
        other = session.get(Resident, other_id)
        assert other is not None and other.pin_hash is not None
        name, phone = other.name, other.phone
    response = enrol(client, staff_auth, name=name, phone=phone)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/residents/{other_id}")
    with app.app_context(), database().read() as session:
        assert session.scalar(select(func.count()).where(Resident.phone == phone)) == 1
    assert client.get(f"/staff/residents/{other_id}").status_code == 200


@pytest.mark.usefixtures("signed_in")
def test_resetting_a_pin_needs_the_identity_box_then_stops_the_old_pin_and_prints_a_code(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    kiosk = KioskActions(app.test_client())  # the resident, at the kiosk in the lobby
    (wang,) = residents_named(app, "王秀英")
    url = f"/staff/residents/{wang.id}/pin-reset"
    refused = client.post(url, data={"csrf_token": staff_auth.csrf_token()})
    assert refused.status_code == 400
    assert "请先核对居民身份，再勾选此项。" in refused.get_data(as_text=True)
    assert kiosk.sign_in().status_code == 302 and kiosk.is_signed_in()  # the PIN still works
    kiosk.sign_out()

    reset = client.post(url, data={"csrf_token": staff_auth.csrf_token(), "identity_checked": "y"})
    assert reset.status_code == 200
    code = code_on(reset.get_data(as_text=True))
    assert "设置新的自助机密码" in reset.get_data(as_text=True)
    assert kiosk.sign_in(DEMO_PHONE, DEMO_PIN).status_code == 401  # the old PIN is refused
    assert not kiosk.is_signed_in()
    with app.app_context(), database().read() as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "resident.code_issued.pin_reset")
        )
        assert entry is not None and entry.actor == "staff:zhao" and code not in str(entry.detail)


@pytest.mark.usefixtures("signed_in")
def test_a_resident_of_another_centre_cannot_be_reset_from_here(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    other_id = resident_of_another_centre(app, clock)
    response = client.post(
        f"/staff/residents/{other_id}/pin-reset",
        data={"csrf_token": staff_auth.csrf_token(), "identity_checked": "y"},
    )
    assert response.status_code == 404
