"""Devices added in the console against a real Mosquitto of the test's own with the dynamic
security plugin: the broker knows a new locker at once, lets it touch only its own topics,
drops an old password or a revoked device at once, and a broker that refuses leaves nothing
half-made."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy import select

from booking.core.models.sites import Site
from devices.fleet import broker_accounts, provisioning
from devices.models.device import Device
from kiosk import mqtt_config
from kiosk.broker import mosquitto_binary
from kiosk.cli import main
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions

pytestmark = [pytest.mark.mosquitto, pytest.mark.usefixtures("demo")]
SKIP_NO_MOSQUITTO = "Mosquitto not installed: these tests start their own broker process"
WAIT = 5.0
SITE = "xinhua"
URL = "/staff/admin/devices"
LOCKER = {"kind": "locker", "device_id": "locker-c", "name": "C 号柜", "compartments": "4"}


@dataclass
class Centre:
    broker: mqtt_config.DynsecBroker
    server_password: str


@pytest.fixture
def centre(app: Flask, tmp_path: Path) -> Iterator[Centre]:
    """Mosquitto with the plugin, its file written by the same code as `dynsec-init`, and the
    console set to keep device accounts there."""
    plugin = mqtt_config.dynsec_plugin()
    if mosquitto_binary() is None or plugin is None:
        pytest.skip(SKIP_NO_MOSQUITTO + " (with its dynamic security plugin)")
    server_password = provisioning.generate_password()
    data = tmp_path / "mosquitto"
    with app.app_context(), database().read() as session:
        mqtt_config.write_dynsec_file(session, data / "dynamic-security.json", server_password)
    broker = mqtt_config.DynsecBroker(data, data / "dynamic-security.json", plugin)
    broker.start()
    app.config["BROKER_ACCOUNTS"] = "dynsec"
    app.config["MQTT_URL"] = mqtt_config.with_credentials(
        broker.server_url, provisioning.SERVER_USERNAME, server_password
    )
    app.config["DEVICE_BROKER_URL"] = broker.url
    yield Centre(broker, server_password)
    broker.stop()


class Client:
    """A paho client that records its connects, disconnects, subscriptions and messages."""

    def __init__(self, port: int, username: str, password: str, client_id: str) -> None:
        self.connects: queue.Queue[ReasonCode] = queue.Queue()
        self.disconnects: queue.Queue[ReasonCode] = queue.Queue()
        self.granted: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            reconnect_on_failure=False,
        )
        self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p: self.connects.put(rc)
        self.client.on_disconnect = lambda c, u, f, rc, p: self.disconnects.put(rc)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.granted.put(list(rcs))
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def connected(self) -> bool:
        return not self.connects.get(timeout=WAIT).is_failure

    def subscribe(self, topic: str) -> bool:
        self.client.subscribe(topic, qos=1)
        return not self.granted.get(timeout=WAIT)[0].is_failure

    def publish(self, topic: str, payload: bytes = b"{}") -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(WAIT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


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


def register(client: FlaskClient, admin: StaffActions, **change: str) -> str:
    response = post(client, admin, URL, **{**LOCKER, **change})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "the device can connect now" in response.get_data(as_text=True)
    return shown_password(response.get_data(as_text=True))


def device_client(centre: Centre, clients: list[Client], password: str, device_id: str = "locker-c") -> Client:  # fmt: skip
    client = Client(centre.broker.port, device_id, password, device_id)
    clients.append(client)
    return client


def server_client(centre: Centre, clients: list[Client]) -> Client:
    client = Client(
        centre.broker.server_port,
        provisioning.SERVER_USERNAME,
        centre.server_password,
        f"linli-server-test-{len(clients)}",
    )
    clients.append(client)
    assert client.connected()
    return client


def registered_ids(app: Flask) -> list[str]:
    with app.app_context(), database().read() as session:
        return list(session.scalars(select(Device.device_id)))


def test_a_locker_added_in_the_console_connects_at_once_and_touches_only_its_own_topics(
    app: Flask, client: FlaskClient, admin: StaffActions, centre: Centre, clients: list[Client]
) -> None:
    password = register(client, admin)
    register(client, admin, device_id="locker-d", name="D")
    server = server_client(centre, clients)
    assert server.subscribe(f"linli/v1/{SITE}/#")
    locker = device_client(centre, clients, password)
    assert locker.connected()
    locker.publish(f"linli/v1/{SITE}/locker-c/event")
    assert server.messages.get(timeout=WAIT).topic == f"linli/v1/{SITE}/locker-c/event"
    # Another locker's topics, a topic it only reads, the server's: all dropped by the broker.
    for topic in ("locker-d/event", "locker-c/cmd", "server/status", "locker-c/other"):
        locker.publish(f"linli/v1/{SITE}/{topic}")
    locker.publish(f"linli/v1/{SITE}/locker-c/heartbeat")
    assert server.messages.get(timeout=WAIT).topic == f"linli/v1/{SITE}/locker-c/heartbeat"
    assert locker.subscribe(f"linli/v1/{SITE}/locker-c/cmd")
    assert locker.subscribe(f"linli/v1/{SITE}/server/status")
    assert not locker.subscribe(f"linli/v1/{SITE}/locker-d/cmd")
    assert not locker.subscribe(f"linli/v1/{SITE}/#")
    assert not locker.subscribe("$CONTROL/dynamic-security/v1/response")
    server.publish(f"linli/v1/{SITE}/locker-c/cmd", b'{"cmd": 1}')
    assert locker.messages.get(timeout=WAIT).payload == b'{"cmd": 1}'


def test_a_devices_password_takes_no_other_client_id_on_either_listener(
    app: Flask, client: FlaskClient, admin: StaffActions, centre: Centre, clients: list[Client]
) -> None:
    password = register(client, admin)
    thief = Client(centre.broker.server_port, "locker-c", password, f"linli-server-{SITE}")
    clients.append(thief)
    assert not thief.connected()


def test_new_credentials_refuse_the_old_password_and_disconnect_the_device_at_once(
    app: Flask, client: FlaskClient, admin: StaffActions, centre: Centre, clients: list[Client]
) -> None:
    old = register(client, admin)
    locker = device_client(centre, clients, old)
    assert locker.connected()
    new = shown_password(post(client, admin, f"{URL}/locker-c/credentials").get_data(as_text=True))
    locker.disconnects.get(timeout=WAIT)
    assert not device_client(centre, clients, old).connected()
    assert device_client(centre, clients, new).connected()


def test_a_revoked_device_is_disconnected_and_refused_until_it_has_new_credentials(
    app: Flask, client: FlaskClient, admin: StaffActions, centre: Centre, clients: list[Client]
) -> None:
    password = register(client, admin)
    locker = device_client(centre, clients, password)
    assert locker.connected()
    assert post(client, admin, f"{URL}/locker-c/revoke").status_code == 303
    locker.disconnects.get(timeout=WAIT)
    assert not device_client(centre, clients, password).connected()
    new = shown_password(post(client, admin, f"{URL}/locker-c/credentials").get_data(as_text=True))
    assert device_client(centre, clients, new).connected()


def test_a_broker_that_is_down_leaves_no_device_and_says_why(
    app: Flask, client: FlaskClient, admin: StaffActions, centre: Centre
) -> None:
    centre.broker.stop()
    response = post(client, admin, URL, **LOCKER)
    assert response.status_code == 503
    assert "cannot reach the broker" in response.get_data(as_text=True)
    assert registered_ids(app) == []
    centre.broker.start()
    register(client, admin)  # the same id, once the broker is back
    assert registered_ids(app) == ["locker-c"]


def test_a_broker_that_refuses_the_server_leaves_no_device_and_no_account(
    app: Flask, client: FlaskClient, admin: StaffActions, centre: Centre, clients: list[Client]
) -> None:
    good = app.config["MQTT_URL"]
    app.config["MQTT_URL"] = mqtt_config.with_credentials(
        centre.broker.server_url, provisioning.SERVER_USERNAME, "wrong"
    )
    response = post(client, admin, URL, **LOCKER)
    assert response.status_code == 503
    assert "refused the server account linli-server" in response.get_data(as_text=True)
    assert registered_ids(app) == []
    app.config["MQTT_URL"] = good
    accounts = broker_accounts.DynsecAccounts(good)
    (answer,) = accounts.run(
        [{"command": "getClient", "username": "locker-c"}], tolerate=("Client not found",)
    )
    assert answer["error"] == "Client not found"


def test_a_broker_refusing_a_command_undoes_what_it_made_and_registers_nothing(
    app: Flask, client: FlaskClient, admin: StaffActions, centre: Centre, monkeypatch: Any
) -> None:
    real_run = broker_accounts.DynsecAccounts.run

    def refuse_the_client(self: Any, commands: Any, **kwargs: Any) -> Any:
        if any(c["command"] == "createClient" for c in commands):
            commands = [{**c, "roles": [{"rolename": "no-such-role"}]}
                        if c["command"] == "createClient" else c for c in commands]  # fmt: skip
        return real_run(self, commands, **kwargs)

    monkeypatch.setattr(broker_accounts.DynsecAccounts, "run", refuse_the_client)
    response = post(client, admin, URL, **LOCKER)
    assert response.status_code == 503
    assert "the broker refused createClient: Role not found" in response.get_data(as_text=True)
    assert registered_ids(app) == []
    monkeypatch.undo()
    accounts = broker_accounts.DynsecAccounts(app.config["MQTT_URL"])
    (answer,) = accounts.run(
        [{"command": "getRole", "rolename": "device-locker-c"}], tolerate=("Role not found",)
    )
    assert answer["error"] == "Role not found"


def test_dynsec_init_keeps_the_passwords_of_devices_registered_before(
    app: Flask, tmp_path: Path, clients: list[Client]
) -> None:
    plugin = mqtt_config.dynsec_plugin()
    if mosquitto_binary() is None or plugin is None:
        pytest.skip(SKIP_NO_MOSQUITTO + " (with its dynamic security plugin)")
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site)).one()
        _, password = provisioning.register_device(
            session, site.id, "locker-a", "locker", "", _now(app)
        )
        provisioning.register_device(session, site.id, "locker-b", "locker", "", _now(app))
        provisioning.revoke_credentials(session, "locker-b", _now(app))
    out = tmp_path / "broker" / "dynamic-security.json"
    runner = app.test_cli_runner()
    result = runner.invoke(main, args=["devices", "dynsec-init", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 devices" in result.output
    assert runner.invoke(main, args=["devices", "dynsec-init", "--out", str(out)]).exit_code == 1
    written = json.loads(out.read_text())
    assert {c["username"] for c in written["clients"]} == {"linli-server", "locker-a", "locker-b"}
    broker = mqtt_config.DynsecBroker(tmp_path / "broker", out, plugin).start()
    try:
        locker = Client(broker.port, "locker-a", password, "locker-a")
        clients.append(locker)
        assert locker.connected()
    finally:
        broker.stop()


def _now(app: Flask) -> Any:
    from kiosk.extensions import clock

    with app.app_context():
        return clock().now()


def test_linli_sim_runs_with_the_credentials_on_the_sheet(
    app: Flask,
    client: FlaskClient,
    admin: StaffActions,
    centre: Centre,
    clients: list[Client],
    tmp_path: Path,
) -> None:
    page = post(client, admin, URL, **LOCKER).get_data(as_text=True)
    found = re.search(r'<pre class="sheet-command"><code>linli-sim ([^<]+)</code></pre>', page)
    assert found is not None
    args = found.group(1).replace("./locker-c-state", str(tmp_path / "sim")).split()
    server = server_client(centre, clients)
    assert server.subscribe(f"linli/v1/{SITE}/locker-c/status")
    log = tmp_path / "sim.log"
    with log.open("wb") as output:
        sim = subprocess.Popen(
            [sys.executable, "-m", "linli_sim.cli", *args, "--no-console"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        status: dict[str, Any] = {}
        while status.get("state") != "online" and (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(queue.Empty):
                status = json.loads(server.messages.get(timeout=left).payload)
        assert status.get("state") == "online", log.read_text(errors="replace")
    finally:
        sim.terminate()
        sim.wait(10)


def test_the_production_dynsec_config_has_the_plugin_before_the_listeners_the_demo_uses() -> None:
    text = (
        Path(__file__).parents[2] / "deploy" / "mosquitto" / "mosquitto-dynsec.conf"
    ).read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    plugin_lines = mqtt_config.dynsec_config(
        mqtt_config.DYNSEC_PLUGIN_PATHS[0], Path("/var/lib/mosquitto/dynamic-security.json")
    ).splitlines()
    assert lines[: len(plugin_lines)] == plugin_lines
    listeners = mqtt_config.dynsec_listeners().splitlines()
    start = lines.index(listeners[0])
    assert lines[start : start + len(listeners)] == listeners
    assert not any(line.startswith(("password_file", "acl_file")) for line in lines)
