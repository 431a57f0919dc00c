"""Correcting a resident's details at the desk: the enrolment's checks and words, the phone
still one person's everywhere, and an audit entry that names the fields but keeps no values."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.conftest import StaffActions
from tests.kiosk.conftest import DEMO_PHONE, DEMO_PIN, KioskActions
from tests.resident_rows import resident_of_another_centre

pytestmark = pytest.mark.usefixtures("demo")

SECOND_PHONE = "13800000002"  # the demo's second resident


@pytest.fixture
def wang(app: Flask, staff_auth: StaffActions) -> int:
    assert staff_auth.sign_in().status_code == 302
    with app.app_context(), database().read() as session:
        return session.scalars(select(Resident.id).where(Resident.phone == DEMO_PHONE)).one()


def details(staff_auth: StaffActions, **changes: str) -> dict[str, str]:
    data = {
        "name": "王秀英", "phone": DEMO_PHONE, "birth_year": "1949", "building": "5号楼",
        "unit": "1单元", "room": "602", "lives_alone": "y", "emergency_contact_name": "王强",
        "emergency_contact_phone": "13700000007", "preferred_language": "zh_CN",
        "csrf_token": staff_auth.csrf_token(),
    }  # fmt: skip
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def save(client: FlaskClient, staff_auth: StaffActions, resident_id: int, **changes: str) -> Any:
    return client.post(
        f"/staff/residents/{resident_id}/details", data=details(staff_auth, **changes)
    )


def resident(app: Flask, resident_id: int) -> Resident:
    with app.app_context(), database().read() as session:
        found = session.get_one(Resident, resident_id)
        session.expunge(found)
        return found


def audited(app: Flask) -> list[AuditEntry]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(
            select(AuditEntry).where(AuditEntry.action == "resident.details_changed")
        ))  # fmt: skip
        session.expunge_all()
        return found


def test_the_form_starts_from_the_residents_details_and_saves_the_corrections(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, wang: int
) -> None:
    page = client.get(f"/staff/residents/{wang}/details").get_data(as_text=True)
    assert 'value="13800000001"' in page and 'value="王秀英"' in page
    response = save(client, staff_auth, wang)
    assert response.status_code == 303
    saved = resident(app, wang)
    assert (saved.birth_year, saved.address, saved.emergency_contact_phone) == (
        1949, "5号楼 1单元 602", "13700000007",
    )  # fmt: skip
    (entry,) = audited(app)
    assert entry.actor == "staff:zhao"
    assert sorted(entry.detail["fields"]) == [
        "birth_year", "building", "emergency_contact_name", "emergency_contact_phone", "room",
        "unit",
    ]  # fmt: skip
    # The audit keeps which fields changed, never what they hold.
    assert "602" not in str(entry.detail) and "13700000007" not in str(entry.detail)


def test_a_new_phone_is_the_one_the_resident_signs_in_with_and_the_pin_stays(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, wang: int
) -> None:
    kiosk = KioskActions(client)
    assert save(client, staff_auth, wang, phone="139 1234 5678").status_code == 303
    assert resident(app, wang).phone == "13912345678"
    kiosk.sign_in(phone="13912345678", pin=DEMO_PIN)
    assert kiosk.is_signed_in()
    kiosk.sign_out()
    kiosk.sign_in(phone=DEMO_PHONE, pin=DEMO_PIN)
    assert not kiosk.is_signed_in()


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"phone": SECOND_PHONE}, 409, "已有另一位居民"),
        ({"phone": "1234"}, 400, "手机号码为 11 位"),
        ({"name": ""}, 400, None),
        ({"birth_year": "1800"}, 400, None),
        ({"emergency_contact_phone": ""}, 400, None),
    ],
)
def test_bad_details_are_refused_in_chinese_and_change_nothing(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, wang: int,
    changes: dict[str, str], status: int, words: str | None,
) -> None:  # fmt: skip
    client.post("/staff/language", data={"locale": "zh_CN", "csrf_token": staff_auth.csrf_token()})
    before = resident(app, wang)
    response = save(client, staff_auth, wang, **changes)
    assert response.status_code == status
    if words:
        assert words in response.get_data(as_text=True)
    after = resident(app, wang)
    assert (after.name, after.phone, after.birth_year) == (
        before.name, before.phone, before.birth_year,
    )  # fmt: skip
    assert audited(app) == []


def test_another_centres_resident_is_not_found(
    app: Flask, client: FlaskClient, clock: FrozenClock, staff_auth: StaffActions, wang: int
) -> None:
    outsider = resident_of_another_centre(app, clock)
    assert client.get(f"/staff/residents/{outsider}/details").status_code == 404
    assert save(client, staff_auth, outsider).status_code == 404


def test_saving_the_same_details_records_nothing(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, wang: int
) -> None:
    save(client, staff_auth, wang)
    assert save(client, staff_auth, wang).status_code == 303
    assert len(audited(app)) == 1


def test_a_resident_enrolled_without_a_year_of_birth_has_other_details_corrected(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, wang: int
) -> None:
    # A roster may give only a name and a phone: the desk must not have to make a year up
    # to add an emergency contact.
    with app.app_context(), database().write() as session:
        session.get_one(Resident, wang).birth_year = None
    response = save(client, staff_auth, wang, birth_year="", emergency_contact_name="王刚")
    assert response.status_code == 303, response.get_data(as_text=True)
    after = resident(app, wang)
    assert (after.birth_year, after.emergency_contact_name) == (None, "王刚")
