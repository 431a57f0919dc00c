"""The generated password file and ACL, loaded by a real Mosquitto of the test's own."""

from __future__ import annotations

import queue
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from devices.fleet import provisioning
from kiosk.broker import MosquittoBroker, mosquitto_binary

pytestmark = pytest.mark.mosquitto
SKIP_NO_MOSQUITTO = "Mosquitto not installed: these tests start their own broker process"
WAIT = 5.0


@dataclass
class Fleet:
    broker: MosquittoBroker
    passwords: dict[str, str]


@pytest.fixture
def fleet(tmp_path: Path, database: Database, clock: FrozenClock) -> Iterator[Fleet]:
    """Mosquitto enforcing the files generated for two lockers and the bridge account."""
    if mosquitto_binary() is None:
        pytest.skip(SKIP_NO_MOSQUITTO)
    server_password = provisioning.generate_password()
    passwords = {"linli-server": server_password}
    with database.write() as session:
        site = Site(slug="xinhua", name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        for device_id in ("locker-a", "locker-b"):
            _, passwords[device_id] = provisioning.register_device(
                session, site.id, device_id, "locker", "", clock.now()
            )
        passwd = provisioning.mosquitto_password_file(
            session, server_password_hash=provisioning.mosquitto_hash(server_password)
        )
        acl = provisioning.mosquitto_acl(session)
    config_dir = tmp_path / "mosquitto"
    config_dir.mkdir()
    (config_dir / "passwd").write_text(passwd)
    (config_dir / "acl").write_text(acl)
    broker = MosquittoBroker(
        config_dir,
        extra_config=(
            "allow_anonymous false\n"
            f"password_file {config_dir / 'passwd'}\n"
            f"acl_file {config_dir / 'acl'}\n"
        ),
    ).start()
    yield Fleet(broker, passwords)
    broker.stop()


class Probe:
    """A paho client that records what it receives and how its connect went."""

    def __init__(self, broker: MosquittoBroker, username: str, password: str) -> None:
        self.connected: queue.Queue[ReasonCode] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.subscribed: queue.Queue[list[ReasonCode]] = queue.Queue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=username, protocol=mqtt.MQTTv311
        )
        self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, f, rc, p: self.connected.put(rc)
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subscribed.put(rcs)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def connect_result(self) -> ReasonCode:
        return self.connected.get(timeout=WAIT)

    def subscribe(self, topic: str) -> list[ReasonCode]:
        self.client.subscribe(topic, qos=1)
        return self.subscribed.get(timeout=WAIT)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(WAIT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def probes(fleet: Fleet) -> Iterator[dict[str, Probe]]:
    opened: dict[str, Probe] = {}
    yield opened
    for probe in opened.values():
        probe.close()


def signed_in(fleet: Fleet, probes: dict[str, Probe], username: str) -> Probe:
    probe = Probe(fleet.broker, username, fleet.passwords[username])
    assert not probe.connect_result().is_failure
    probes[username] = probe
    return probe


def test_device_signs_in_with_its_provisioned_password(
    fleet: Fleet, probes: dict[str, Probe]
) -> None:
    signed_in(fleet, probes, "locker-a")


def test_device_with_a_wrong_password_is_refused(fleet: Fleet, probes: dict[str, Probe]) -> None:
    probe = Probe(fleet.broker, "locker-a", fleet.passwords["locker-b"])
    probes["wrong"] = probe
    assert probe.connect_result().is_failure


def test_unknown_user_and_anonymous_are_refused(fleet: Fleet, probes: dict[str, Probe]) -> None:
    probe = Probe(fleet.broker, "intruder", "whatever")
    probes["intruder"] = probe
    assert probe.connect_result().is_failure


def test_bridge_receives_what_a_device_publishes_under_its_own_topics(
    fleet: Fleet, probes: dict[str, Probe]
) -> None:
    bridge = signed_in(fleet, probes, "linli-server")
    bridge.subscribe("linli/v1/#")
    device = signed_in(fleet, probes, "locker-a")
    marker = uuid.uuid4().hex.encode()
    device.publish("linli/v1/xinhua/locker-a/event", marker)
    assert bridge.messages.get(timeout=WAIT).payload == marker


def test_device_cannot_publish_under_another_devices_topics(
    fleet: Fleet, probes: dict[str, Probe]
) -> None:
    bridge = signed_in(fleet, probes, "linli-server")
    bridge.subscribe("linli/v1/#")
    device = signed_in(fleet, probes, "locker-a")
    spoofed, honest = b"spoofed", b"honest"
    device.publish("linli/v1/xinhua/locker-b/event", spoofed)
    device.publish("linli/v1/xinhua/server/status", spoofed)
    # Mosquitto drops a denied publish silently; an allowed one sent after it arrives, and
    # since one client's QoS 1 messages arrive in order, nothing denied can still be coming.
    device.publish("linli/v1/xinhua/locker-a/event", honest)
    assert bridge.messages.get(timeout=WAIT).payload == honest
    assert bridge.messages.empty()


def test_device_cannot_read_another_devices_commands(
    fleet: Fleet, probes: dict[str, Probe]
) -> None:
    locker_a = signed_in(fleet, probes, "locker-a")
    locker_a.subscribe("linli/v1/xinhua/locker-b/cmd")
    locker_a.subscribe("linli/v1/xinhua/locker-a/cmd")
    bridge = signed_in(fleet, probes, "linli-server")
    bridge.publish("linli/v1/xinhua/locker-b/cmd", b"for b")
    bridge.publish("linli/v1/xinhua/locker-a/cmd", b"for a")
    assert locker_a.messages.get(timeout=WAIT).payload == b"for a"
    assert locker_a.messages.empty()


def test_device_cannot_subscribe_to_everything(fleet: Fleet, probes: dict[str, Probe]) -> None:
    locker_a = signed_in(fleet, probes, "locker-a")
    locker_a.subscribe("linli/v1/#")
    bridge = signed_in(fleet, probes, "linli-server")
    bridge.publish("linli/v1/xinhua/locker-b/cmd", b"for b")
    bridge.publish("linli/v1/xinhua/locker-a/cmd", b"for a")
    # A wildcard subscription is granted, but Mosquitto delivers only what the ACL lets it read.
    assert locker_a.messages.get(timeout=WAIT).payload == b"for a"
    assert locker_a.messages.empty()
