"""The production listeners (kiosk.mqtt_config), loaded by a real Mosquitto of the test's own:
each listener knows only its own accounts, and no client can take another's session."""

from __future__ import annotations

import queue
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import InvalidInput
from booking.core.models.sites import Site
from devices.fleet import provisioning
from kiosk import mqtt_config
from kiosk.broker import mosquitto_binary

pytestmark = pytest.mark.mosquitto
SKIP_NO_MOSQUITTO = "Mosquitto not installed: these tests start their own broker process"
WAIT = 5.0
DEPLOY_CONFIG = Path(__file__).parents[2] / "deploy" / "mosquitto" / "mosquitto.conf"
SITE = "xinhua"
BRIDGE_ID = f"linli-server-{SITE}"


@dataclass
class Centre:
    broker: mqtt_config.LinliBroker
    passwords: dict[str, str]


@pytest.fixture
def centre(tmp_path: Path, database: Database, clock: FrozenClock) -> Iterator[Centre]:
    """Mosquitto with the generated files and listeners for two lockers and the bridge."""
    if mosquitto_binary() is None:
        pytest.skip(SKIP_NO_MOSQUITTO)
    server_password = provisioning.generate_password()
    passwords = {provisioning.SERVER_USERNAME: server_password}
    with database.write() as session:
        site = Site(slug=SITE, name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        for device_id in ("locker-a", "locker-b"):
            _, passwords[device_id] = provisioning.register_device(
                session, site.id, device_id, "locker", "", clock.now()
            )
        files = mqtt_config.write_mosquitto_files(session, tmp_path / "mosquitto", server_password)
    broker = mqtt_config.LinliBroker(tmp_path / "mosquitto", files)
    broker.start()
    yield Centre(broker, passwords)
    broker.stop()


class Client:
    """A paho client that records its connects, disconnects and messages."""

    def __init__(self, port: int, username: str, password: str, client_id: str) -> None:
        self.connects: queue.Queue[ReasonCode] = queue.Queue()
        self.disconnects: queue.Queue[ReasonCode] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=False,
            reconnect_on_failure=False,
        )
        self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p: self.connects.put(rc)
        self.client.on_disconnect = lambda c, u, f, rc, p: self.disconnects.put(rc)
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def connect_result(self) -> ReasonCode:
        return self.connects.get(timeout=WAIT)

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(WAIT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients() -> Iterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for client in opened:
        client.close()


def connect(
    centre: Centre, clients: list[Client], port: int, username: str, client_id: str | None = None
) -> Client:
    client = Client(port, username, centre.passwords[username], client_id or username)
    clients.append(client)
    return client


def test_a_devices_password_is_refused_on_the_server_listener(
    centre: Centre, clients: list[Client]
) -> None:
    thief = connect(centre, clients, centre.broker.server_port, "locker-a", BRIDGE_ID)
    assert thief.connect_result().is_failure


def test_the_server_account_is_refused_on_the_device_listener(
    centre: Centre, clients: list[Client]
) -> None:
    server = connect(centre, clients, centre.broker.port, provisioning.SERVER_USERNAME, BRIDGE_ID)
    assert server.connect_result().is_failure


def test_a_device_asking_for_the_bridges_client_id_does_not_take_the_bridges_session(
    centre: Centre, clients: list[Client]
) -> None:
    bridge = connect(
        centre, clients, centre.broker.server_port, provisioning.SERVER_USERNAME, BRIDGE_ID
    )
    assert not bridge.connect_result().is_failure
    bridge.subscribe(f"linli/v1/{SITE}/+/event")
    time.sleep(0.2)
    # The broker replaces the client id it asked for with its username.
    device = connect(centre, clients, centre.broker.port, "locker-a", BRIDGE_ID)
    assert not device.connect_result().is_failure
    device.publish(f"linli/v1/{SITE}/locker-a/event", b"{}")
    assert bridge.messages.get(timeout=WAIT).topic == f"linli/v1/{SITE}/locker-a/event"
    assert bridge.disconnects.empty()


def test_a_device_asking_for_another_devices_client_id_does_not_take_its_session(
    centre: Centre, clients: list[Client]
) -> None:
    locker_b = connect(centre, clients, centre.broker.port, "locker-b")
    assert not locker_b.connect_result().is_failure
    impostor = connect(centre, clients, centre.broker.port, "locker-a", "locker-b")
    assert not impostor.connect_result().is_failure
    time.sleep(0.3)
    assert locker_b.disconnects.empty()


def test_the_bridge_still_receives_a_devices_retained_status_across_the_listeners(
    centre: Centre, clients: list[Client]
) -> None:
    device = connect(centre, clients, centre.broker.port, "locker-a")
    assert not device.connect_result().is_failure
    device.publish(f"linli/v1/{SITE}/locker-a/status", b'{"state":"online"}', retain=True)
    bridge = connect(
        centre, clients, centre.broker.server_port, provisioning.SERVER_USERNAME, BRIDGE_ID
    )
    assert not bridge.connect_result().is_failure
    bridge.subscribe(f"linli/v1/{SITE}/+/status")
    message = bridge.messages.get(timeout=WAIT)
    assert (message.topic, message.retain) == (f"linli/v1/{SITE}/locker-a/status", True)


@pytest.mark.parametrize(
    "device_id", ["linli-server", "linli-server-xinhua", "linli-cmd-1a2b", "server"]
)
def test_a_device_cannot_be_named_like_one_of_the_servers_clients(
    database: Database, clock: FrozenClock, device_id: str
) -> None:
    with database.write() as session:
        site = Site(slug=SITE, name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        with pytest.raises(InvalidInput):
            provisioning.register_device(session, site.id, device_id, "locker", "", clock.now())


def test_the_production_config_has_the_generated_listeners_after_per_listener_settings() -> None:
    text = DEPLOY_CONFIG.read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    files = mqtt_config.BrokerFiles.in_dir(mqtt_config.PRODUCTION_DIR)
    expected = mqtt_config.listeners_config(files).splitlines()
    start = lines.index(expected[0])
    assert lines[start : start + len(expected)] == expected
    first_listener = next(i for i, line in enumerate(lines) if re.match(r"listener\b", line))
    assert lines.index(mqtt_config.PER_LISTENER.strip()) < first_listener
    # Security settings appear only inside the listeners, each listener's own.
    assert not any(
        line.startswith(("password_file", "acl_file", "allow_anonymous"))
        for line in lines[:first_listener]
    )
