"""The device board's part in the device protocol: refused messages shown without their
content, and the admin's reset of a session counter, audited."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from devices.fleet import provisioning, registry
from devices.ingest import dead_letters
from devices.models.dead_letters import DeadLetter
from devices.models.device import Device
from devices.models.faults import FaultKind
from devices.models.messages import DeviceMessage
from devices.protocol.messages import Reason
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions
from tests.page_text import without_csrf_tokens

pytestmark = pytest.mark.usefixtures("demo")

READING = {
    "v": 1, "device": "locker-a", "session": 3, "seq": 4, "ts": "2026-11-24T01:30:00.000Z",
    "type": "reading", "systolic": 187, "diastolic": 113, "mean_arterial_pressure": 137.7,
    "unit": "mmHg", "pulse": 72, "measured_at": "2026-11-24T01:30:00.000Z",
    "card_id": "C0099887", "flags": {},
}  # fmt: skip


@pytest.fixture
def locker_a(app: Flask, clock: FrozenClock) -> None:
    """locker-a, which lost its counter (session_behind open), with a refused reading."""
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        device, _ = provisioning.register_device(
            session, site.id, "locker-a", "locker", "Locker A", clock.now()
        )
        device.session_counter, device.last_seq = 40, 3
        device.ledger_pruned_through = registry.version(40, 2)
        session.add(
            DeviceMessage(
                device_id="locker-a", session=40, seq=0, kind="birth", event_type=None,
                payload={}, device_ts=clock.now(), received_at=clock.now(),
            )
        )  # fmt: skip
        dead_letters.record(
            session,
            topic="linli/v1/xinhua/locker-a/event",
            reason=Reason.WRONG_KIND,
            payload=json.dumps(READING).encode(),
            received_at=clock.now(),
            device_id="locker-a",
            detail="a 'reading' event from a device registered as 'locker'",
        )
        registry.open_fault(session, "locker-a", None, FaultKind.SESSION_BEHIND, clock.now())


def english(client: FlaskClient, staff_auth: StaffActions, *args: str) -> None:
    staff_auth.sign_in(*args)
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})


def test_staff_see_that_a_message_was_refused_and_why_but_never_its_values(
    client: FlaskClient, staff_auth: StaffActions, locker_a: None
) -> None:
    english(client, staff_auth)
    page = without_csrf_tokens(client.get("/staff/devices").get_data(as_text=True))
    assert "1 refused: of the wrong kind for this device" in page
    assert "Session counter went back" in page
    for value in ("187", "113", "C0099887"):
        assert value not in page


def test_staff_see_how_many_times_a_refused_message_came(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, locker_a: None, clock: FrozenClock
) -> None:
    english(client, staff_auth)
    assert "received" not in client.get("/staff/devices").get_data(as_text=True)
    with app.app_context(), database().write() as session:
        letter = session.scalars(select(DeadLetter)).one()
        for _ in range(2):
            dead_letters.record(
                session, topic=letter.topic, reason=letter.reason, payload=letter.payload,
                received_at=clock.now(), device_id="locker-a", detail=letter.detail,
            )  # fmt: skip
    page = client.get("/staff/devices").get_data(as_text=True)
    assert "1 refused: of the wrong kind for this device" in page
    assert "(wrong_kind)</span> · received 3 times · last" in page
    client.post("/staff/language", data={"locale": "zh_CN", "csrf_token": staff_auth.csrf_token()})
    assert "(wrong_kind)</span> · 共收到 3 次 ·" in client.get("/staff/devices").get_data(
        as_text=True
    )


def test_only_an_admin_sees_and_may_press_the_session_counter_reset(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, locker_a: None
) -> None:
    english(client, staff_auth)
    assert "Reset the session counter" not in client.get("/staff/devices").get_data(as_text=True)
    answer = client.post(
        "/staff/devices/locker-a/session/reset", data={"csrf_token": staff_auth.csrf_token()}
    )
    assert answer.status_code == 403
    with app.app_context(), database().read() as session:
        device = session.scalars(select(Device).where(Device.device_id == "locker-a")).one()
        assert device.session_counter == 40


def test_an_admin_resets_a_lost_counter_on_the_board_and_the_audit_says_so(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, locker_a: None
) -> None:
    english(client, staff_auth, "admin", ADMIN_PASSWORD)
    assert "Reset the session counter" in client.get("/staff/devices").get_data(as_text=True)
    answer = client.post(
        "/staff/devices/locker-a/session/reset",
        data={"csrf_token": staff_auth.csrf_token()},
        follow_redirects=True,
    )
    assert answer.status_code == 200
    assert "The session counter of locker-a was reset" in answer.get_data(as_text=True)
    with app.app_context(), database().read() as session:
        device = session.scalars(select(Device).where(Device.device_id == "locker-a")).one()
        assert (device.session_counter, device.last_seq) == (None, None)
        assert device.ledger_pruned_through is None
        assert session.scalars(select(DeviceMessage)).all() == []
        assert FaultKind.SESSION_BEHIND not in {f.kind for f in registry.open_faults(session)}
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "device.session_counter_reset")
        ).one()
        assert entry.subject == "device:locker-a"
        assert entry.detail == {"session_counter_was": 40, "ledger_rows_released": 1}


def test_a_reset_without_a_valid_form_changes_nothing(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, locker_a: None
) -> None:
    english(client, staff_auth, "admin", ADMIN_PASSWORD)
    answer = client.post("/staff/devices/locker-a/session/reset", data={})
    assert answer.status_code in (303, 400)
    with app.app_context(), database().read() as session:
        device = session.scalars(select(Device).where(Device.device_id == "locker-a")).one()
        assert device.session_counter == 40


def test_a_device_whose_counter_has_not_gone_back_offers_no_reset(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, locker_a: None, clock: FrozenClock
) -> None:
    with app.app_context(), database().write() as session:
        registry.close_device_fault(session, "locker-a", FaultKind.SESSION_BEHIND, clock.now())
    english(client, staff_auth, "admin", ADMIN_PASSWORD)
    assert "Reset the session counter" not in client.get("/staff/devices").get_data(as_text=True)
    answer = client.post(
        "/staff/devices/locker-a/session/reset",
        data={"csrf_token": staff_auth.csrf_token()},
        follow_redirects=True,
    )
    assert "has not gone back" in answer.get_data(as_text=True)
    with app.app_context(), database().read() as session:
        device = session.scalars(select(Device).where(Device.device_id == "locker-a")).one()
        assert device.session_counter == 40
        assert len(session.scalars(select(DeviceMessage)).all()) == 1
