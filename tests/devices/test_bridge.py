"""The bridge over a real broker (Mosquitto in CI, embedded amqtt elsewhere), with a raw paho
device speaking the protocol: availability, acks after commit, dead letters, resync, restarts."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from booking.core.db import Database
from booking.core.models.sites import Site
from devices.bridge import Bridge
from devices.inbox import IDLE_WAIT_S
from devices.ingest import gaps
from devices.models.commands import CommandState, DeviceCommand
from devices.models.device import Device, DeviceKind
from devices.models.messages import DeviceMessage
from devices.models.outbox import CommandOutbox

DEADLINE_S = 15.0


def ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wait_for(condition: Callable[[], Any], what: str, timeout: float = DEADLINE_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def host_port(url: str) -> tuple[str, int]:
    rest = url.split("://", 1)[1].rsplit("@", 1)[-1]
    host, _, port = rest.partition(":")
    return host, int(port or 1883)


class TestDevice:
    """A locker as raw paho: Will before connect, outbox of unacknowledged events."""

    __test__ = False

    def __init__(self, url: str, site: str, device_id: str, session: int) -> None:
        self.site, self.device_id, self.session = site, device_id, session
        self.seq = -1
        self.unacked: dict[int, bytes] = {}
        self.commands: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=device_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        self.client.will_set(self.topic("status"), self.status("offline"), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.connected = threading.Event()
        host, port = host_port(url)
        self.client.connect(host, port, keepalive=5)
        self.client.loop_start()
        assert self.connected.wait(10), "test device could not connect"

    def topic(self, kind: str) -> str:
        return f"linli/v1/{self.site}/{self.device_id}/{kind}"

    def status(self, state: str) -> bytes:
        body = {"v": 1, "device": self.device_id, "session": self.session, "state": state}
        return json.dumps({**body, "ts": ts()}).encode()

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        client.subscribe([(self.topic("ack"), 1), (self.topic("cmd"), 1)])
        client.publish(self.topic("status"), self.status("online"), qos=1, retain=True)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        body = json.loads(message.payload)
        with self.lock:
            if message.topic.endswith("/ack") and body["session"] == self.session:
                for first, last in body["seqs"]:
                    for seq in range(first, last + 1):
                        self.unacked.pop(seq, None)
            elif message.topic.endswith("/cmd"):
                self.commands.append(body)

    def envelope(self, seq: int | None = None) -> dict[str, Any]:
        if seq is None:
            self.seq += 1
            seq = self.seq
        return {"v": 1, "device": self.device_id, "session": self.session, "seq": seq, "ts": ts()}

    def birth(self) -> None:
        compartments = [
            {"n": n, "lock": "locked", "door": "closed", "item_present": True} for n in (1, 2)
        ]
        body = {
            **self.envelope(),
            "kind": "locker",
            "firmware": "test 1",
            "capabilities": {"compartments": 2},
            "heartbeat_s": 30,
            "state": {"compartments": compartments},
        }
        self.client.publish(self.topic("birth"), json.dumps(body).encode(), qos=1)

    def event(self, type_: str, seq: int | None = None, **fields: Any) -> int:
        body = {**self.envelope(seq), "type": type_, **fields}
        payload = json.dumps(body).encode()
        with self.lock:
            self.unacked[body["seq"]] = payload
        self.client.publish(self.topic("event"), payload, qos=1)
        return int(body["seq"])

    def resend_unacked(self) -> None:
        with self.lock:
            pending = list(self.unacked.values())
        for payload in pending:
            self.client.publish(self.topic("event"), payload, qos=1)

    def pending(self) -> int:
        with self.lock:
            return len(self.unacked)

    def crash(self) -> None:
        """Break the connection without DISCONNECT, as a power cut would: the Will fires."""
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def add_locker(database: Database, site: str, device_id: str) -> None:
    with database.write() as session:
        row = Site(slug=site, name_zh="测试站", name_en="Test centre")
        session.add(row)
        session.flush()
        session.add(
            Device(
                site_id=row.id,
                device_id=device_id,
                kind=DeviceKind.LOCKER,
                name=device_id,
                mqtt_password_hash="$7$unused",
                capabilities={},
                online=False,
                created_at=datetime.now(UTC),
            )
        )


def locker_row(database: Database, device_id: str) -> Device:
    with database.read() as session:
        found = session.scalars(select(Device).where(Device.device_id == device_id)).one()
        session.expunge(found)
        return found


def event_seqs(database: Database, device_id: str) -> list[int]:
    with database.read() as session:
        return list(
            session.scalars(
                select(DeviceMessage.seq)
                .where(DeviceMessage.device_id == device_id, DeviceMessage.kind == "event")
                .order_by(DeviceMessage.seq)
            )
        )


@pytest.fixture
def device_id(mqtt_site: str) -> str:
    return f"{mqtt_site}-locker"


# Where the batches are committed: in the bridge's worker thread (tests with their own clock
# and handlers) or in a process of their own (the `linli worker`).
COMMIT_IN = {"thread": None, "process": "devices.ingest.reactions:Handlers"}


@pytest.fixture(params=list(COMMIT_IN))
def commit_in(request: pytest.FixtureRequest) -> str | None:
    return COMMIT_IN[request.param]


@pytest.fixture
def bridge(
    mqtt_url: str, mqtt_site: str, database: Database, device_id: str, commit_in: str | None
) -> Iterator[Bridge]:
    add_locker(database, mqtt_site, device_id)
    bridge = Bridge(
        database,
        mqtt_url,
        mqtt_site,
        client_id=f"linli-server-{mqtt_site}",
        commit_process_handlers=commit_in,
    )
    bridge.start()
    assert bridge.connected.is_set(), "bridge could not connect to the test broker"
    yield bridge
    bridge.stop()


@pytest.fixture
def locker(mqtt_url: str, mqtt_site: str, device_id: str, bridge: Bridge) -> Iterator[TestDevice]:
    device = TestDevice(mqtt_url, mqtt_site, device_id, session=1)
    yield device
    device.stop()


def test_the_bridge_turns_nagle_off_so_acks_and_resyncs_are_not_held(bridge: Bridge) -> None:
    sock = bridge._client.socket()  # the one way to see the option paho left us to set
    assert sock is not None
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_an_idle_bridge_stops_at_once_instead_of_at_the_end_of_its_wait(bridge: Bridge) -> None:
    # Its worker waits IDLE_WAIT_S for a message; stopping wakes it instead of being polled for.
    time.sleep(0.3)
    began = time.monotonic()
    bridge.stop()
    assert time.monotonic() - began < IDLE_WAIT_S / 2


def test_a_birth_over_the_broker_marks_the_locker_online(
    locker: TestDevice, database: Database, device_id: str
) -> None:
    locker.birth()
    # Its firmware comes with the birth alone: the retained status says online before that.
    wait_for(lambda: locker_row(database, device_id).firmware == "test 1", "the birth stored")
    assert locker_row(database, device_id).online


def test_an_event_is_acknowledged_to_the_device_after_it_is_stored(
    locker: TestDevice, database: Database, device_id: str
) -> None:
    locker.birth()
    seq = locker.event("door_closed", compartment=1)
    wait_for(lambda: locker.pending() == 0, "the ack of the event")
    assert event_seqs(database, device_id) == [seq]


def test_a_broken_connection_marks_the_locker_offline_through_its_last_will(
    locker: TestDevice, database: Database, device_id: str
) -> None:
    locker.birth()
    wait_for(lambda: locker_row(database, device_id).online, "the locker online")
    locker.crash()
    wait_for(lambda: not locker_row(database, device_id).online, "the Will to mark it offline")


def test_a_spoofed_message_over_the_broker_is_dead_lettered_and_counted(
    locker: TestDevice, bridge: Bridge, database: Database, device_id: str
) -> None:
    body = {**locker.envelope(), "type": "door_closed", "compartment": 1, "device": "someone"}
    locker.client.publish(locker.topic("event"), json.dumps(body).encode(), qos=1)
    wait_for(lambda: bridge.counters().get("dead_letter.spoofed") == 1, "the dead letter")
    assert event_seqs(database, device_id) == []


def settle_gaps_once_the_wait_is_over(database: Database, device_id: str) -> list[str]:
    """The scheduler's gap job (devices.ingest.gaps), run as it would be once the device's gap
    has waited its time: the bridge keeps the system clock, so the job is handed the moment
    the wait ends rather than slept for. The device ids it asked for a resync."""
    noticed = wait_for(lambda: locker_row(database, device_id).gap_noticed_at, "the gap noticed")
    with database.write() as session:
        issued = gaps.settle_gaps(session, noticed + gaps.REORDER_WAIT)
        return [command.device_id for command in issued]


def test_a_gap_in_seq_makes_the_bridge_send_a_resync_command_once_the_wait_is_over(
    locker: TestDevice, database: Database, device_id: str
) -> None:
    locker.birth()
    locker.event("door_closed", compartment=1)
    locker.event("door_closed", seq=7, compartment=1)
    assert settle_gaps_once_the_wait_is_over(database, device_id) == [device_id]
    commands = wait_for(lambda: list(locker.commands), "a command to the device")
    assert [command["name"] for command in commands] == ["resync"]


def test_a_resync_command_is_marked_sent_once_the_broker_has_acknowledged_it(
    locker: TestDevice, database: Database, device_id: str
) -> None:
    locker.birth()
    locker.event("door_closed", compartment=1)
    locker.event("door_closed", seq=7, compartment=1)
    assert settle_gaps_once_the_wait_is_over(database, device_id) == [device_id]

    def resync_sent() -> DeviceCommand | None:
        with database.read() as session:
            command = session.scalars(
                select(DeviceCommand).where(DeviceCommand.device_id == device_id)
            ).one_or_none()
            if command is None or command.state is not CommandState.SENT:
                return None
            session.expunge(command)
            return command

    command = wait_for(resync_sent, "the resync command marked sent")
    assert (command.name, command.send_count) == ("resync", 1)
    assert command.sent_at is not None


def test_a_resync_issued_while_the_broker_is_away_does_not_stop_the_worker(
    database: Database, mqtt_site: str, device_id: str
) -> None:
    """The resync waits in the outbox (sent on reconnection if still in time), and the
    worker keeps applying messages meanwhile."""
    add_locker(database, mqtt_site, device_id)
    with database.write() as session:  # as after its birth: online, session 1 begun
        locker = session.scalars(select(Device).where(Device.device_id == device_id)).one()
        locker.online, locker.session_counter, locker.last_seq = True, 1, 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody_listens = probe.getsockname()[1]
    bridge = Bridge(database, f"mqtt://127.0.0.1:{nobody_listens}", mqtt_site)
    bridge.start(connect_timeout=0.1)
    try:
        topic = f"linli/v1/{mqtt_site}/{device_id}/event"

        def arrive(seq: int) -> None:
            body = {"v": 1, "device": device_id, "session": 1, "seq": seq, "ts": ts()}
            message = mqtt.MQTTMessage(mid=seq, topic=topic.encode())
            message.qos = 1
            message.payload = json.dumps({**body, "type": "door_closed", "compartment": 1}).encode()
            bridge._on_message(bridge._client, None, message)  # as paho's network thread would

        arrive(1)
        arrive(7)
        assert settle_gaps_once_the_wait_is_over(database, device_id) == [device_id]
        wait_for(lambda: queued_commands(database) == ["resync"], "the resync queued")
        arrive(8)
        wait_for(lambda: event_seqs(database, device_id) == [1, 7, 8], "the next event applied")
    finally:
        bridge.stop(timeout=0.5)


def queued_commands(database: Database) -> list[str]:
    with database.read() as session:
        return list(
            session.scalars(
                select(DeviceCommand.name).join(
                    CommandOutbox, CommandOutbox.command_id == DeviceCommand.id
                )
            )
        )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "crash"])
@pytest.mark.parametrize("server_away", [False, True], ids=["server-connected", "server-away"])
def test_after_a_broker_restart_every_event_is_stored_exactly_once(
    own_mosquitto: Any,
    database: Database,
    sig: signal.Signals,
    server_away: bool,
    commit_in: str | None,
) -> None:
    site, device_id, total = "restart", "restart-locker", 60
    add_locker(database, site, device_id)
    options: dict[str, Any] = {"retry_delay": 0.1, "commit_process_handlers": commit_in}
    bridge = Bridge(database, own_mosquitto.url, site, **options).start()
    locker = TestDevice(own_mosquitto.url, site, device_id, session=1)
    try:
        locker.birth()
        # The firmware comes with the birth only (its retained status already says online):
        # a birth still uncommitted when the bridge stops would die with the crashed broker.
        wait_for(lambda: locker_row(database, device_id).firmware, "the locker's birth stored")
        if server_away:
            bridge.stop()
        for _ in range(total // 2):
            locker.event("door_closed", compartment=1)
        own_mosquitto.restart(sig)
        locker.connected.clear()
        locker.connected.wait(10)
        for _ in range(total - total // 2):
            locker.event("door_closed", compartment=1)
        if server_away:
            bridge = Bridge(database, own_mosquitto.url, site, **options).start()

        def all_acked() -> bool:
            # The device's outbox at work: re-send what the server has not acknowledged.
            locker.resend_unacked()
            return locker.pending() == 0

        wait_for(all_acked, "every event acknowledged", timeout=30)
        assert event_seqs(database, device_id) == list(range(1, total + 1))
        with database.read() as session:
            rows = session.scalar(select(func.count()).where(DeviceMessage.device_id == device_id))
        assert rows == total + 1  # the birth, then each event once
    finally:
        locker.stop()
        bridge.stop()


def test_a_commit_process_that_dies_is_replaced_and_every_event_is_stored_once(
    mqtt_url: str, mqtt_site: str, database: Database, device_id: str
) -> None:
    add_locker(database, mqtt_site, device_id)
    bridge = Bridge(
        database, mqtt_url, mqtt_site, commit_process_handlers=COMMIT_IN["process"]
    ).start()
    locker = TestDevice(mqtt_url, mqtt_site, device_id, session=1)
    try:
        locker.birth()
        wait_for(lambda: locker_row(database, device_id).firmware, "the birth stored")
        assert bridge._batches is not None
        bridge._batches._process.kill()  # type: ignore[union-attr]  # as the OOM killer would
        seqs = [locker.event("door_closed", compartment=1) for _ in range(20)]

        def all_acked() -> bool:
            locker.resend_unacked()
            return locker.pending() == 0

        wait_for(all_acked, "every event acknowledged", timeout=30)
        assert event_seqs(database, device_id) == seqs
        assert bridge._batches.restarts >= 1
    finally:
        locker.stop()
        bridge.stop()


def test_a_commit_process_that_cannot_start_stops_the_bridge_from_starting(
    mqtt_url: str, mqtt_site: str, database: Database
) -> None:
    bridge = Bridge(
        database, mqtt_url, mqtt_site, commit_process_handlers="devices.nowhere:nothing"
    )
    with pytest.raises(RuntimeError, match="commit process did not start"):
        bridge.start()
