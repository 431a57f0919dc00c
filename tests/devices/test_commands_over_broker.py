"""Commands over a real broker, end to end: ``send_and_wait`` publishes, the simulated locker
(linli_sim) answers, the worker's bridge records the replies, the waiter reads the outcome."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from booking.clock import FrozenClock, SystemClock
from booking.db import Database
from booking.models import Site
from devices import commands
from devices.bridge import Bridge
from devices.command_publisher import BrokerUrl, CommandPublisher
from devices.commands import CommandOutcome, OutcomeResult
from devices.models import CommandState, Device, DeviceCommand, DeviceKind, DeviceMessage
from linli_sim.locker import LockerSim

WAIT_S = 5.0


def wait_until(condition: Any, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def add_locker(database: Database, site_slug: str, device_id: str, *, online: bool) -> None:
    with database.write() as session:
        site = Site(slug=site_slug, name_zh="测试站", name_en="Test centre")
        session.add(site)
        session.flush()
        session.add(
            Device(
                site_id=site.id,
                device_id=device_id,
                kind=DeviceKind.LOCKER,
                name=device_id,
                mqtt_password_hash="$7$unused",
                capabilities={"compartments": 8},
                online=online,
                created_at=datetime.now(UTC),
            )
        )


def is_online(database: Database, device_id: str) -> bool:
    with database.read() as session:
        return bool(session.scalar(select(Device.online).where(Device.device_id == device_id)))


def load(database: Database, command_id: str) -> DeviceCommand:
    with database.read() as session:
        command = commands.get(session, command_id)
        session.expunge(command)
        return command


def replies_for(database: Database, device_id: str, command_id: str) -> list[str]:
    with database.read() as session:
        stored = session.scalars(
            select(DeviceMessage.payload)
            .where(DeviceMessage.device_id == device_id, DeviceMessage.kind == "reply")
            .order_by(DeviceMessage.seq)
        ).all()
    return [str(p["status"]) for p in stored if p.get("command_id") == command_id]


def clear_retained(url: str, site: str, device_id: str) -> None:
    """A shared broker keeps retained topics forever: leave none of this test's behind."""
    broker = BrokerUrl(url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect(broker.host, broker.port)
    client.loop_start()
    for topic in (
        f"linli/v1/{site}/{device_id}/status",
        f"linli/v1/{site}/{device_id}/state",
        f"linli/v1/{site}/server/status",
    ):
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(WAIT_S)
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def device_id(mqtt_site: str) -> str:
    return f"{mqtt_site}-locker"


@pytest.fixture
def bridge(mqtt_url: str, mqtt_site: str, database: Database, device_id: str) -> Iterator[Bridge]:
    bridge = Bridge(database, mqtt_url, mqtt_site, client_id=f"linli-server-{mqtt_site}").start()
    assert bridge.connected.is_set(), "the bridge could not connect to the test broker"
    yield bridge
    bridge.stop()
    clear_retained(mqtt_url, mqtt_site, device_id)


@pytest.fixture
def publisher(mqtt_url: str) -> Iterator[CommandPublisher]:
    with CommandPublisher(mqtt_url) as publisher:
        assert publisher.connected, "the command publisher could not connect to the test broker"
        yield publisher


@pytest.fixture
def locker(
    mqtt_url: str,
    mqtt_site: str,
    device_id: str,
    database: Database,
    bridge: Bridge,
    tmp_path: Path,
) -> Iterator[LockerSim]:
    """A simulated locker, registered, whose birth the bridge has recorded (so it is online)."""
    add_locker(database, mqtt_site, device_id, online=False)
    # time_scale: the 0.5 s motor takes 5 ms, so a round trip is quick but still asynchronous.
    # Relocking an untouched compartment after 30 s of test time, not 0.6 s: a loaded machine
    # must still find it unlocked when the test looks.
    sim = LockerSim(
        device_id, mqtt_site, mqtt_url, tmp_path / "sim", time_scale=0.01, relock_after_s=3000.0
    )
    sim.start()
    wait_until(lambda: is_online(database, device_id), "the locker's birth to reach the registry")
    yield sim
    sim.stop()


def open_compartment(
    database: Database,
    publisher: CommandPublisher,
    device_id: str,
    compartment: int = 3,
    *,
    ttl: timedelta = timedelta(seconds=5),
    clock: Any = None,
) -> CommandOutcome:
    return commands.send_and_wait(
        database,
        publisher,
        device_id,
        "open",
        {"compartment": compartment},
        ttl=ttl,
        requested_by="kiosk:resident:12",
        clock=clock or SystemClock(),
    )


def test_an_open_command_round_trips_to_done(
    database: Database, publisher: CommandPublisher, locker: LockerSim, device_id: str
) -> None:
    outcome = open_compartment(database, publisher, device_id, 3)
    assert outcome.result is OutcomeResult.DONE and outcome.ok
    assert outcome.command_id is not None
    assert locker.executed_commands == [outcome.command_id]
    assert locker.compartment(3)["lock"] == "unlocked"
    command = load(database, outcome.command_id)
    assert command.state is CommandState.SUCCEEDED
    assert command.sent_at is not None and command.send_count == 1
    assert command.accepted_at is not None and command.finished_at is not None


def test_the_same_command_id_sent_twice_opens_once_and_is_answered_the_same(
    database: Database, publisher: CommandPublisher, locker: LockerSim, device_id: str
) -> None:
    clock = SystemClock()
    with database.write() as session:
        command = commands.issue(
            session, device_id, "open", {"compartment": 5}, clock.now(), requested_by="staff:3"
        )
    payload = json.dumps(commands.command_payload(command)).encode()
    topic = commands.command_topic(command.site, command.device_id)
    assert publisher.publish(topic, payload, WAIT_S)
    outcome = commands.wait_for_outcome(
        database, command.id, deadline=time.monotonic() + WAIT_S, clock=clock
    )
    assert outcome.result is OutcomeResult.DONE
    # Again once finished (a retry whose first answer got lost): the device repeats itself.
    assert publisher.publish(topic, payload, WAIT_S)
    wait_until(
        lambda: len(replies_for(database, device_id, command.id)) == 4, "the repeated answers"
    )
    assert replies_for(database, device_id, command.id) == ["accepted", "done"] * 2
    assert locker.executed_commands == [command.id]


def test_a_command_delivered_twice_while_in_flight_opens_once(
    database: Database, publisher: CommandPublisher, locker: LockerSim, device_id: str
) -> None:
    clock = SystemClock()
    with database.write() as session:
        command = commands.issue(
            session, device_id, "open", {"compartment": 6}, clock.now(), requested_by="staff:3"
        )
    payload = json.dumps(commands.command_payload(command)).encode()
    topic = commands.command_topic(command.site, command.device_id)
    assert publisher.publish(topic, payload, WAIT_S)
    assert publisher.publish(topic, payload, WAIT_S)
    outcome = commands.wait_for_outcome(
        database, command.id, deadline=time.monotonic() + WAIT_S, clock=clock
    )
    assert outcome.result is OutcomeResult.DONE
    assert locker.executed_commands == [command.id]


def test_retry_publishes_a_command_that_never_went_out(
    database: Database, publisher: CommandPublisher, locker: LockerSim, device_id: str
) -> None:
    clock = SystemClock()
    # Inserted, then the process that should have published it died.
    with database.write() as session:
        command = commands.issue(
            session, device_id, "open", {"compartment": 2}, clock.now(), requested_by="staff:3"
        )
    outcome = commands.retry(database, publisher, command.id, clock=clock)
    assert (outcome.result, outcome.command_id) == (OutcomeResult.DONE, command.id)
    assert locker.executed_commands == [command.id]
    assert load(database, command.id).send_count == 1


def test_an_expired_command_is_rejected_and_not_executed(
    database: Database, publisher: CommandPublisher, locker: LockerSim, device_id: str
) -> None:
    # Issued by a server whose clock says a minute ago: already expired on arrival.
    stale = FrozenClock(datetime.now(UTC) - timedelta(minutes=1))
    outcome = open_compartment(
        database, publisher, device_id, ttl=timedelta(seconds=10), clock=stale
    )
    assert (outcome.result, outcome.reason) == (OutcomeResult.REJECTED, "expired")
    assert locker.executed_commands == []
    assert locker.compartment(3)["lock"] == "locked"


def test_opening_a_jammed_compartment_is_rejected_with_the_devices_reason(
    database: Database, publisher: CommandPublisher, locker: LockerSim, device_id: str
) -> None:
    locker.jam(4)
    outcome = open_compartment(database, publisher, device_id, 4)
    assert (outcome.result, outcome.reason) == (OutcomeResult.REJECTED, "jammed")
    assert outcome.state is CommandState.REJECTED


class NoPublisher(CommandPublisher):
    def __init__(self) -> None:
        self.calls = 0

    def publish(self, topic: str, payload: bytes, timeout: float) -> bool:
        self.calls += 1
        raise AssertionError("nothing may be published to an offline device")


def test_a_command_to_an_offline_device_fails_fast_without_publishing(
    database: Database, mqtt_site: str, device_id: str
) -> None:
    add_locker(database, mqtt_site, device_id, online=False)
    publisher = NoPublisher()
    started = time.monotonic()
    outcome = open_compartment(database, publisher, device_id, ttl=timedelta(seconds=5))
    # Fast: the answer does not wait for the command's 5 s to run out (a loaded machine may
    # take most of a second for the read itself, so the bound is the TTL, not a stopwatch).
    assert time.monotonic() - started < 2.5
    assert (outcome.result, outcome.command_id) == (OutcomeResult.DEVICE_OFFLINE, None)
    assert publisher.calls == 0
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(DeviceCommand)) == 0


def test_a_command_without_any_reply_times_out_at_its_expiry(
    database: Database, publisher: CommandPublisher, bridge: Bridge, mqtt_site: str
) -> None:
    # The registry still says online (its socket has not timed out yet) but nothing answers.
    add_locker(database, mqtt_site, f"{mqtt_site}-silent", online=True)
    started = time.monotonic()
    outcome = open_compartment(
        database, publisher, f"{mqtt_site}-silent", ttl=timedelta(milliseconds=400)
    )
    waited = time.monotonic() - started
    assert (outcome.result, outcome.reason) == (OutcomeResult.TIMED_OUT, "no_reply")
    assert 0.4 <= waited < 2.0
    assert outcome.command_id is not None
    assert load(database, outcome.command_id).state is CommandState.TIMED_OUT
