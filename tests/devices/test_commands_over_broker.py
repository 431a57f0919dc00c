"""Commands over a real broker, end to end: ``send_and_wait`` issues and queues, the worker's
bridge publishes, the simulated locker (linli_sim) answers, the bridge records the replies,
the waiter reads the outcome; and with the bridge stopped, nothing is ever published."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from device_rows import add_device
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import delete, func, select

from booking.core.clock import FrozenClock, SystemClock
from booking.core.db import Database
from devices.bridge import Bridge
from devices.commands import operations as commands
from devices.commands import waiting
from devices.commands.waiting import CommandOutcome, OutcomeResult
from devices.models.commands import CommandState, DeviceCommand
from devices.models.device import Device
from devices.models.messages import DeviceMessage
from devices.models.outbox import CommandOutbox
from devices.mqtt_client import BrokerUrl
from linli_sim.locker import LockerSim
from tests.broker_waits import WAIT_S, clear_retained, wait_until


def add_locker(database: Database, site: str, device_id: str, *, online: bool) -> None:
    add_device(database, device_id, online=online, site=site, registered_at=datetime.now(UTC))


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


class RawSender:
    """Publishes a command's bytes as a server would, to deliver one id twice on purpose."""

    def __init__(self, url: str) -> None:
        broker = BrokerUrl(url)
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311
        )
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def send(self, command: DeviceCommand) -> None:
        payload = json.dumps(commands.command_payload(command)).encode()
        topic = commands.command_topic(command.site, command.device_id)
        self.client.publish(topic, payload, qos=1).wait_for_publish(WAIT_S)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def raw(mqtt_url: str) -> Iterator[RawSender]:
    sender = RawSender(mqtt_url)
    yield sender
    sender.close()


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
    device_id: str,
    compartment: int = 3,
    *,
    ttl: timedelta = timedelta(seconds=5),
    clock: Any = None,
) -> CommandOutcome:
    return waiting.send_and_wait(
        database,
        device_id,
        "open",
        {"compartment": compartment},
        ttl=ttl,
        requested_by="kiosk:resident:12",
        clock=clock or SystemClock(),
    )


def issue_open(database: Database, device_id: str, compartment: int, ttl_s: float = 10) -> str:
    with database.write() as session:
        command = commands.issue(
            session, device_id, "open", {"compartment": compartment}, SystemClock().now(),
            ttl=timedelta(seconds=ttl_s), requested_by="staff:3",
        )  # fmt: skip
        return command.id


def test_an_open_command_round_trips_to_done(
    database: Database, locker: LockerSim, device_id: str
) -> None:
    outcome = open_compartment(database, device_id, 3)
    assert outcome.result is OutcomeResult.DONE and outcome.ok
    assert outcome.command_id is not None
    assert locker.executed_commands == [outcome.command_id]
    assert locker.compartment(3)["lock"] == "unlocked"
    command_id = outcome.command_id
    # The bridge records the broker's acknowledgement a moment after publishing.
    wait_until(lambda: load(database, command_id).sent_at is not None, "the command marked sent")
    command = load(database, command_id)
    assert command.state is CommandState.SUCCEEDED
    assert command.send_count == 1
    assert command.accepted_at is not None and command.finished_at is not None


def test_the_same_command_id_sent_twice_opens_once_and_is_answered_the_same(
    database: Database, locker: LockerSim, device_id: str, raw: RawSender
) -> None:
    clock = SystemClock()
    command_id = issue_open(database, device_id, 5)
    outcome = waiting.await_outcome(database, command_id, clock=clock)
    assert outcome.result is OutcomeResult.DONE
    # Again once finished (a retry whose first answer got lost): the device repeats itself.
    raw.send(load(database, command_id))
    wait_until(
        lambda: len(replies_for(database, device_id, command_id)) == 4, "the repeated answers"
    )
    assert replies_for(database, device_id, command_id) == ["accepted", "done"] * 2
    assert locker.executed_commands == [command_id]


def test_a_command_delivered_twice_while_in_flight_opens_once(
    database: Database, locker: LockerSim, device_id: str, raw: RawSender
) -> None:
    clock = SystemClock()
    command_id = issue_open(database, device_id, 6)
    raw.send(load(database, command_id))
    outcome = waiting.await_outcome(database, command_id, clock=clock)
    assert outcome.result is OutcomeResult.DONE
    assert locker.executed_commands == [command_id]


def test_retry_queues_again_a_command_that_never_went_out(
    database: Database, bridge: Bridge, locker: LockerSim, device_id: str, mqtt_url: str
) -> None:
    clock = SystemClock()
    bridge.stop()  # the worker stops: the command waits in the outbox
    command_id = issue_open(database, device_id, 2)
    with database.write() as session:  # as if taken by a bridge that died before publishing
        session.execute(delete(CommandOutbox))
    restarted = Bridge(database, mqtt_url, bridge.site, client_id=bridge.client_id)
    restarted.start()
    try:
        outcome = waiting.retry(database, command_id, clock=clock)
    finally:
        restarted.stop()
    assert (outcome.result, outcome.command_id) == (OutcomeResult.DONE, command_id)
    assert locker.executed_commands == [command_id]


def test_a_command_past_its_expiry_is_never_published(
    database: Database, locker: LockerSim, device_id: str
) -> None:
    # Issued by a server whose clock says a minute ago: expired before the bridge takes it.
    stale = FrozenClock(datetime.now(UTC) - timedelta(minutes=1))
    outcome = open_compartment(database, device_id, ttl=timedelta(seconds=10), clock=stale)
    assert (outcome.result, outcome.reason) == (OutcomeResult.TIMED_OUT, "not_delivered")
    assert locker.executed_commands == []
    assert locker.compartment(3)["lock"] == "locked"


def test_with_the_worker_stopped_no_door_opens_not_even_when_it_comes_back_later(
    database: Database, bridge: Bridge, locker: LockerSim, device_id: str, mqtt_url: str
) -> None:
    clock = SystemClock()
    bridge.stop()
    # One command a waiter times out, one nobody waits for: both expire while no bridge runs.
    waited = open_compartment(database, device_id, 1, ttl=timedelta(milliseconds=500))
    assert (waited.result, waited.reason) == (OutcomeResult.TIMED_OUT, "not_delivered")
    unwatched = issue_open(database, device_id, 2, ttl_s=0.5)
    time.sleep(0.6)
    # The worker comes back after the commands' expiry: it takes them and sends neither.
    restarted = Bridge(database, mqtt_url, bridge.site, client_id=bridge.client_id)
    restarted.start()
    try:
        wait_until(lambda: not queued(database), "the bridge to take the queued commands")
        fresh = open_compartment(database, device_id, 4)  # and what is new goes out at once
    finally:
        restarted.stop()
    assert fresh.result is OutcomeResult.DONE
    assert locker.executed_commands == [fresh.command_id]
    for n in (1, 2):
        assert locker.compartment(n)["lock"] == "locked"
    assert load(database, unwatched).send_count == 0
    assert clock.now() > load(database, unwatched).expires_at


def queued(database: Database) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(CommandOutbox.command_id)))


def test_opening_a_jammed_compartment_is_rejected_with_the_devices_reason(
    database: Database, locker: LockerSim, device_id: str
) -> None:
    locker.jam(4)
    outcome = open_compartment(database, device_id, 4)
    assert (outcome.result, outcome.reason) == (OutcomeResult.REJECTED, "jammed")
    assert outcome.state is CommandState.REJECTED


def test_a_command_to_an_offline_device_fails_fast_without_queueing(
    database: Database, mqtt_site: str, device_id: str
) -> None:
    add_locker(database, mqtt_site, device_id, online=False)
    started = time.monotonic()
    outcome = open_compartment(database, device_id, ttl=timedelta(seconds=5))
    # Fast: the answer does not wait for the command's 5 s to run out (a loaded machine may
    # take most of a second for the read itself, so the bound is the TTL, not a stopwatch).
    assert time.monotonic() - started < 2.5
    assert (outcome.result, outcome.command_id) == (OutcomeResult.DEVICE_OFFLINE, None)
    with database.read() as session:
        for model in (DeviceCommand, CommandOutbox):
            assert session.scalar(select(func.count()).select_from(model)) == 0


def test_a_command_without_any_reply_times_out_at_its_expiry(
    database: Database, bridge: Bridge, mqtt_site: str
) -> None:
    # The registry still says online (its socket has not timed out yet) but nothing answers.
    add_locker(database, mqtt_site, f"{mqtt_site}-silent", online=True)
    started = time.monotonic()
    # Long enough for the broker's acknowledgement to be recorded first, even on a loaded CI
    # machine (400 ms once was not): without that record the reason is, rightly, not_delivered.
    outcome = open_compartment(database, f"{mqtt_site}-silent", ttl=timedelta(milliseconds=1500))
    waited = time.monotonic() - started
    assert (outcome.result, outcome.reason) == (OutcomeResult.TIMED_OUT, "no_reply")
    assert 1.5 <= waited < 3.5
    assert outcome.command_id is not None
    assert load(database, outcome.command_id).state is CommandState.TIMED_OUT
