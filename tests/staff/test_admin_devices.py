"""Adding a device in the console: a locker by its label and compartment count, a terminal by
its kind; the credentials shown once on a printable sheet; new credentials and revocation.

These run in the password-file mode, where the broker learns a change from its files, and
with a broker that does not answer; tests/ops/test_dynsec_provisioning.py runs the same pages
against a real Mosquitto with the dynamic security plugin.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.models.audit import AuditEntry
from devices.fleet import provisioning
from devices.models.compartments import Compartment
from devices.models.device import Device
from kiosk.broker import free_port
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")

URL = "/staff/admin/devices"
LOCKER = {"kind": "locker", "device_id": "locker-c", "name": "C 号柜", "compartments": "6"}
TERMINAL = {"kind": "bp_terminal", "device_id": "bp-2", "name": "二楼血压计"}


@pytest.fixture
def admin(client: FlaskClient, staff_auth: StaffActions) -> StaffActions:
    staff_auth.sign_in("admin", ADMIN_PASSWORD)
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


def post(client: FlaskClient, staff: StaffActions, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": staff.csrf_token(), **data})


def shown_password(page: str) -> str:
    found = re.search(r'<code class="secret">([^<]+)</code>', page)
    assert found is not None, "the sheet shows no password"
    return found.group(1)


def device(app: Flask, device_id: str) -> Device | None:
    with app.app_context(), database().read() as session:
        found = session.scalar(select(Device).where(Device.device_id == device_id))
        if found is not None:
            session.expunge(found)
        return found


def compartments(app: Flask, device_id: str) -> list[int]:
    with app.app_context(), database().read() as session:
        return list(
            session.scalars(
                select(Compartment.n)
                .where(Compartment.device_id == device_id)
                .order_by(Compartment.n)
            )
        )


def audited(app: Flask, action: str) -> list[str]:
    with app.app_context(), database().read() as session:
        return list(session.scalars(select(AuditEntry.subject).where(AuditEntry.action == action)))


def test_a_locker_is_added_with_its_label_and_compartments_and_its_sheet_shown_once(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    response = post(client, admin, URL, **LOCKER)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    password = shown_password(page)
    for shown in ("Provisioning sheet", "locker-c", "xinhua", "127.0.0.1", "1883",
                  "linli/v1/xinhua/locker-c/event", "linli/v1/xinhua/locker-c/cmd",
                  "linli/v1/xinhua/server/status", "<svg", "6 compartments",
                  f"--password {password}", "--compartments 6"):  # fmt: skip
        assert shown in page, shown
    registered = device(app, "locker-c")
    assert registered is not None
    assert registered.name == "C 号柜"
    assert registered.capabilities == {"compartments": 6}
    assert provisioning.verify_mosquitto_hash(registered.mqtt_password_hash, password)
    assert compartments(app, "locker-c") == [1, 2, 3, 4, 5, 6]
    assert audited(app, "admin.device_registered") == ["device:locker-c"]
    # Not retrievable later: the list does not show it, and the sheet has no address to GET.
    listing = client.get(URL).get_data(as_text=True)
    assert "locker-c" in listing and password not in listing
    assert client.get(f"{URL}/locker-c/credentials").status_code == 405


def test_a_new_locker_s_compartments_can_hold_tools_before_it_first_connects(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    post(client, admin, URL, **LOCKER)
    form = client.get("/staff/admin/items/new").get_data(as_text=True)
    assert 'value="locker-c"' in form


def test_a_terminal_is_added_by_its_kind_without_compartments(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    response = post(client, admin, URL, **TERMINAL)
    assert response.status_code == 200
    assert "Blood-pressure terminal" in response.get_data(as_text=True)
    registered = device(app, "bp-2")
    assert registered is not None and registered.kind.value == "bp_terminal"
    assert compartments(app, "bp-2") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"compartments": "0"}, "Enter a whole number from 1 to 64."),
        ({"compartments": "65"}, "Enter a whole number from 1 to 64."),
        ({"compartments": "six"}, "Enter a whole number."),
        ({"compartments": "2.5"}, "Enter a whole number."),
        ({"compartments": ""}, "Enter how many compartments the locker has."),
        ({"kind": "bp_terminal"}, "Only a locker has compartments: leave this empty."),
        ({"kind": "toaster"}, "Not a valid choice"),
        ({"name": ""}, "This is required."),
        ({"name": "x" * 101}, "At most 100 characters."),
        ({"device_id": ""}, "This is required."),
        ({"device_id": "Locker C"}, "1 to 40 of a-z, 0-9 and -"),
        ({"device_id": "server"}, "Not saved"),
        ({"device_id": "linli-server-x"}, "Not saved"),
    ],
)
def test_a_bad_registration_is_refused_with_a_clear_message_and_nothing_saved(
    app: Flask, client: FlaskClient, admin: StaffActions, change: dict[str, str], message: str
) -> None:
    response = post(client, admin, URL, **{**LOCKER, **change})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert 'class="secret"' not in page
    with app.app_context(), database().read() as session:
        assert session.scalars(select(Device)).all() == []


def test_a_device_id_registered_already_is_refused(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    post(client, admin, URL, **LOCKER)
    response = post(client, admin, URL, **{**LOCKER, "name": "another"})
    assert response.status_code == 400
    assert "That device id is registered already." in response.get_data(as_text=True)
    assert device(app, "locker-c").name == "C 号柜"  # type: ignore[union-attr]


def test_new_credentials_replace_the_password_and_are_shown_once(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    first = shown_password(post(client, admin, URL, **LOCKER).get_data(as_text=True))
    response = post(client, admin, f"{URL}/locker-c/credentials")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "the old one no longer works" in page
    second = shown_password(page)
    assert second != first
    stored = device(app, "locker-c").mqtt_password_hash  # type: ignore[union-attr]
    assert provisioning.verify_mosquitto_hash(stored, second)
    assert not provisioning.verify_mosquitto_hash(stored, first)
    assert audited(app, "admin.device_credentials_rotated") == ["device:locker-c"]


def test_a_revoked_device_leaves_the_password_file_until_it_has_new_credentials(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    post(client, admin, URL, **LOCKER)
    response = post(client, admin, f"{URL}/locker-c/revoke")
    assert response.status_code == 303
    page = client.get(URL).get_data(as_text=True)
    assert "The credentials of locker-c are revoked" in page
    assert "Credentials revoked" in page
    with app.app_context(), database().read() as session:
        assert "locker-c" not in provisioning.mosquitto_password_file(
            session, server_password_hash=None
        )
        assert "locker-c" not in provisioning.mosquitto_acl(session)
    assert audited(app, "admin.device_credentials_revoked") == ["device:locker-c"]
    again = post(client, admin, f"{URL}/locker-c/revoke")
    assert "revoked already" in client.get(again.headers["Location"]).get_data(as_text=True)
    post(client, admin, f"{URL}/locker-c/credentials")
    with app.app_context(), database().read() as session:
        assert "locker-c:" in provisioning.mosquitto_password_file(
            session, server_password_hash=None
        )


def test_another_centre_s_device_or_none_is_not_found(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    assert post(client, admin, f"{URL}/no-such/credentials").status_code == 404
    assert post(client, admin, f"{URL}/no-such/revoke").status_code == 404


def test_without_its_csrf_token_nothing_is_rotated(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    post(client, admin, URL, **LOCKER)
    before = device(app, "locker-c").mqtt_password_hash  # type: ignore[union-attr]
    response = client.post(f"{URL}/locker-c/credentials")
    assert response.status_code == 400
    assert device(app, "locker-c").mqtt_password_hash == before  # type: ignore[union-attr]


def test_when_the_broker_does_not_answer_nothing_is_registered_and_the_admin_is_told_why(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    app.config["BROKER_ACCOUNTS"] = "dynsec"
    app.config["MQTT_URL"] = f"mqtt://linli-server:pw@127.0.0.1:{free_port()}"
    response = post(client, admin, URL, **LOCKER)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "The broker did not take the change, so nothing was changed" in page
    assert "cannot reach the broker" in page
    assert 'class="secret"' not in page
    assert device(app, "locker-c") is None
    assert compartments(app, "locker-c") == []
    assert audited(app, "admin.device_registered") == []


def test_dynsec_without_the_server_s_broker_url_is_a_clear_error(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    app.config["BROKER_ACCOUNTS"] = "dynsec"
    app.config["MQTT_URL"] = None
    response = post(client, admin, URL, **LOCKER)
    assert response.status_code == 503
    assert "LINLI_MQTT_URL" in response.get_data(as_text=True)
    assert device(app, "locker-c") is None


def test_the_form_and_the_sheet_speak_chinese(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in("admin", ADMIN_PASSWORD)
    form = client.get(URL).get_data(as_text=True)
    for words in ("添加设备", "柜格数", "智能柜", "血压测量终端"):
        assert words in form, words
    refused = post(client, staff_auth, URL, **{**LOCKER, "compartments": "0"})
    assert "请输入 1 到 64 之间的整数" in refused.get_data(as_text=True)
    sheet = post(client, staff_auth, URL, **LOCKER).get_data(as_text=True)
    for words in ("配置单", "密码只在本页显示", "用户名", "密码"):
        assert words in sheet, words


READER = {"kind": "kiosk_reader", "device_id": "reader-2", "name": "大厅读卡器"}


def test_a_kiosk_reader_is_added_like_a_terminal_and_its_sheet_runs_the_simulated_reader(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    response = post(client, admin, URL, **READER)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Kiosk card and QR reader" in page
    assert "linli-sim reader --broker" in page and "--device-id reader-2" in page
    registered = device(app, "reader-2")
    assert registered is not None and registered.kind.value == "kiosk_reader"
    assert compartments(app, "reader-2") == []


def test_a_pairing_code_for_a_reader_is_shown_once_and_kept_only_hashed(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    post(client, admin, URL, **READER)
    listed = client.get(URL).get_data(as_text=True)
    assert f"{URL}/reader-2/pairing" in listed
    response = post(client, admin, f"{URL}/reader-2/pairing")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    found = re.search(r'data-testid="pairing-code"><strong>(\d{4}) (\d{4})</strong>',
                      response.get_data(as_text=True))  # fmt: skip
    assert found is not None
    code = found.group(1) + found.group(2)
    stored = device(app, "reader-2")
    assert stored is not None and stored.pairing_code_hash not in (None, code)
    assert audited(app, "device.pairing_offered") == ["device:reader-2"]


def test_only_a_reader_of_this_centre_gets_a_pairing_code(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    post(client, admin, URL, **TERMINAL)
    assert post(client, admin, f"{URL}/bp-2/pairing").status_code == 404
    assert post(client, admin, f"{URL}/no-such/pairing").status_code == 404
    assert client.post(f"{URL}/bp-2/pairing").status_code == 400  # no CSRF token
