"""What a client written from docs/protocol.md alone found, against real Mosquitto and
linli-sim: a lost session counter, a retained event, a message of the wrong kind and
impossible times. Server and simulator share the test's clock, so any date works."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from device_rows import add_device
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from test_bridge import host_port, wait_for

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.audit import AuditEntry
from booking.health import consent as health_consent
from booking.health.models.consents import ConsentChannel
from booking.people import residents, staff
from booking.people.models.staff import StaffAccount, StaffRole
from devices.bp_terminal import events as health_events
from devices.bridge import Bridge
from devices.fleet import registry, session_reset
from devices.ingest import gaps
from devices.ingest.reactions import Handlers
from devices.models.compartments import Compartment
from devices.models.dead_letters import DeadLetter
from devices.models.device import Device, DeviceKind
from devices.models.faults import DeviceFault, FaultKind
from devices.models.messages import DeviceMessage
from devices.protocol.messages import Reason
from linli_sim.bp_terminal import BpTerminalSim
from linli_sim.locker import LockerSim
from linli_sim.wire import utc_ts


class DeviceClock:
    """The simulated device's clock: the server's, plus an offset the test sets."""

    def __init__(self, server: FrozenClock) -> None:
        self.server = server
        self.offset = timedelta(0)
        self.fixed: datetime | None = None

    def __call__(self) -> datetime:
        return self.fixed if self.fixed is not None else self.server.now() + self.offset


@pytest.fixture
def device_clock(clock: FrozenClock) -> DeviceClock:
    return DeviceClock(clock)


def register(database: Database, site: str, device_id: str, kind: DeviceKind, now: datetime) -> int:
    """An offline device with no declared capabilities, registered ``now``; its site's id."""
    return add_device(
        database, device_id, kind=kind, online=False, compartments=None, site=site,
        registered_at=now,
    )  # fmt: skip


@pytest.fixture
def start_bridge(
    mqtt_url: str, mqtt_site: str, database: Database, clock: FrozenClock
) -> Iterator[Callable[[], Bridge]]:
    started: list[Bridge] = []

    def start() -> Bridge:
        handlers = Handlers()
        health_events.register(handlers)
        bridge = Bridge(
            database,
            mqtt_url,
            mqtt_site,
            clock=clock,
            handlers=handlers,
            client_id=f"linli-server-{mqtt_site}-{len(started)}",
            retry_delay=0.1,
        )
        started.append(bridge)
        bridge.start()
        assert bridge.connected.is_set()
        return bridge

    yield start
    for bridge in started:
        bridge.stop()


@pytest.fixture
def sims() -> Iterator[list[Any]]:
    running: list[Any] = []
    yield running
    for sim in running:
        sim.stop()


@pytest.fixture
def started_sim(
    database: Database,
    clock: FrozenClock,
    device_clock: DeviceClock,
    mqtt_url: str,
    mqtt_site: str,
    start_bridge: Callable[[], Bridge],
    sims: list[Any],
    tmp_path: Path,
) -> Callable[..., Any]:
    """Register a device of the kind, start the bridge, then start a simulator of that kind
    reading the device clock (set it before), fast; its device id is ``sim.device_id``."""

    def start(kind: DeviceKind, **options: Any) -> Any:
        locker = kind is DeviceKind.LOCKER
        device_id = f"{mqtt_site}-{'a' if locker else 'bp'}"
        register(database, mqtt_site, device_id, kind, clock.now())
        start_bridge()
        simulator = LockerSim if locker else BpTerminalSim
        sim = simulator(
            device_id, mqtt_site, mqtt_url, tmp_path / ("locker" if locker else "bp"),
            time_scale=0.01, clock=device_clock, **options,
        )  # fmt: skip
        sims.append(sim)
        sim.start()
        return sim

    return start


def device_row(database: Database, device_id: str) -> Device:
    with database.read() as session:
        found = session.scalars(select(Device).where(Device.device_id == device_id)).one()
        session.expunge(found)
        return found


def open_faults(database: Database, device_id: str) -> set[FaultKind]:
    with database.read() as session:
        return set(
            session.scalars(
                select(DeviceFault.kind).where(
                    DeviceFault.device_id == device_id, DeviceFault.closed_at.is_(None)
                )
            )
        )


def letters(database: Database, device_id: str) -> list[DeadLetter]:
    with database.read() as session:
        found = list(
            session.scalars(
                select(DeadLetter).where(DeadLetter.device_id == device_id).order_by(DeadLetter.id)
            )
        )
        session.expunge_all()
        return found


def reasons(database: Database, device_id: str) -> list[str]:
    return [letter.reason for letter in letters(database, device_id)]


def births(database: Database, device_id: str, session: int) -> int:
    with database.read() as db:
        found = db.scalar(
            select(func.count())
            .select_from(DeviceMessage)
            .where(
                DeviceMessage.device_id == device_id,
                DeviceMessage.session == session,
                DeviceMessage.kind == "birth",
            )
        )
        return int(found or 0)


def stored_events(database: Database, device_id: str) -> list[tuple[int, int]]:
    with database.read() as session:
        return [
            (s, q)
            for s, q in session.execute(
                select(DeviceMessage.session, DeviceMessage.seq)
                .where(DeviceMessage.device_id == device_id, DeviceMessage.kind == "event")
                .order_by(DeviceMessage.session, DeviceMessage.seq)
            )
        ]


# --- a lost session counter ---------------------------------------------------------------------


def test_a_locker_that_lost_its_counter_is_held_until_an_admin_resets_it_then_heard_again(
    database: Database,
    clock: FrozenClock,
    mqtt_url: str,
    mqtt_site: str,
    start_bridge: Callable[[], Bridge],
    sims: list[Any],
    tmp_path: Path,
) -> None:
    device_id = f"{mqtt_site}-a"
    site_id = register(database, mqtt_site, device_id, DeviceKind.LOCKER, clock.now())
    with database.write() as session:
        # The old board had connected 40 times; the server applied its session 1 long ago.
        device = session.scalars(select(Device).where(Device.device_id == device_id)).one()
        device.session_counter, device.last_seq = 40, 12
        # And its last full state: left in place, it would outrank all the new board says.
        device.state_version = registry.version(40, 12)
        for seq in range(3):
            session.add(
                DeviceMessage(
                    device_id=device_id, session=1, seq=seq, kind="birth", event_type=None,
                    payload={}, device_ts=clock.now(), received_at=clock.now(),
                )
            )  # fmt: skip
        admin = staff.create_staff(
            session, site_id=site_id, username=f"admin-{mqtt_site}", display_name="Admin",
            password="reset-the-counter-2026", role=StaffRole.ADMIN, now=clock.now(),
        )  # fmt: skip
        admin_id = admin.id
    start_bridge()
    # A new board: its storage is empty, so it counts its connects from 1 again (§3).
    sim = LockerSim(
        device_id, mqtt_site, mqtt_url, tmp_path / "new-board", heartbeat_s=5,
        resend_interval=0.3, time_scale=0.01, clock=clock.now,
    )  # fmt: skip
    sims.append(sim)
    sim.start()
    wait_for(
        lambda: FaultKind.SESSION_BEHIND in open_faults(database, device_id),
        "the session-behind fault on the board",
    )
    # The tool in compartment 3 is gone, as the board's own state says too: the birth it sends
    # when asked to resync tells the same as the event it keeps.
    with sim.lock:
        sim.compartments[2].item_present = False
    taken = sim.emit("item_present_changed", compartment=3, present=False)
    assert taken["session"] == 1
    wait_for(lambda: sim.unacked_count() == 1, "the event kept by the locker")
    # Held, not applied: neither online nor the event, and it stays in the locker's outbox.
    assert not device_row(database, device_id).online
    assert stored_events(database, device_id) == []

    with database.write() as session:
        resetting = session.get(StaffAccount, admin_id)
        assert resetting is not None
        was = session_reset.reset_session_counter(
            session, resetting, device_id=device_id, now=clock.now()
        )
    assert was == 40

    # Its next message starts anew: a session not seen begin, whose birth may still be on its
    # way (devices.ingest.gaps); once the wait is over a resync, its birth, and the kept event
    # applied and acked.
    def heard_without_its_birth() -> bool:
        row = device_row(database, device_id)
        return row.online and row.gap_session == 1

    wait_for(heard_without_its_birth, "the locker heard again, its birth missing")
    clock.advance(gaps.REORDER_WAIT)
    with database.write() as session:
        asked = [command.device_id for command in gaps.settle_gaps(session, clock.now())]
    assert asked == [device_id]
    wait_for(lambda: births(database, device_id, 1) > 0, "the locker's birth, answering")
    wait_for(lambda: sim.unacked_count() == 0, "the held event acknowledged")
    assert (taken["session"], taken["seq"]) in stored_events(database, device_id)
    with database.read() as session:
        compartment = session.scalars(
            select(Compartment).where(Compartment.device_id == device_id, Compartment.n == 3)
        ).one()
        assert compartment.item_present is False
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == session_reset.ACTION)
        ).one()
        assert entry.detail["session_counter_was"] == 40
    assert FaultKind.SESSION_BEHIND not in open_faults(database, device_id)
    assert device_row(database, device_id).session_counter == sim.session


def test_only_an_admin_resets_a_session_counter(database: Database, clock: FrozenClock) -> None:
    site_id = register(database, "reset-site", "reset-locker", DeviceKind.LOCKER, clock.now())
    with database.write() as session:
        member = staff.create_staff(
            session, site_id=site_id, username="zhao-reset", display_name="Zhao",
            password="not-an-admin-2026", role=StaffRole.STAFF, now=clock.now(),
        )  # fmt: skip
        with pytest.raises(session_reset.AdminOnly):
            session_reset.reset_session_counter(
                session, member, device_id="reset-locker", now=clock.now()
            )


# --- a retained event ---------------------------------------------------------------------------


# amqtt hands the cleared copy back to the bridge's returning session (conftest.SKIP_AMQTT).
@pytest.mark.mosquitto
def test_a_retained_event_replayed_to_a_new_subscription_is_refused_and_cleared(
    database: Database,
    clock: FrozenClock,
    mqtt_url: str,
    mqtt_site: str,
    start_bridge: Callable[[], Bridge],
    sims: list[Any],
    tmp_path: Path,
) -> None:
    device_id = f"{mqtt_site}-a"
    register(database, mqtt_site, device_id, DeviceKind.LOCKER, clock.now())
    first = start_bridge()
    sim = LockerSim(
        device_id, mqtt_site, mqtt_url, tmp_path / "locker", resend_interval=0.3,
        time_scale=0.01, clock=clock.now,
    )  # fmt: skip
    sims.append(sim)
    sim.start()
    wait_for(lambda: device_row(database, device_id).online, "the locker online")
    topic = f"linli/v1/{mqtt_site}/{device_id}/event"
    body = {
        "v": 1, "device": device_id, "session": sim.session, "seq": 900,
        "ts": utc_ts(clock.now()), "type": "door_closed", "compartment": 1,
    }  # fmt: skip
    # A firmware bug: the event goes out retained. Live, the broker strips the flag.
    sim.link.publish_raw("event", json.dumps(body).encode(), retain=True)
    wait_for(lambda: (sim.session, 900) in stored_events(database, device_id), "the live copy")
    first.stop()

    start_bridge()  # a new subscription: the broker replays its retained copy
    wait_for(lambda: Reason.RETAINED in reasons(database, device_id), "the replay refused")
    assert stored_events(database, device_id).count((sim.session, 900)) == 1

    # The bridge cleared the broker's copy: a later subscriber is not handed it.
    host, port = host_port(mqtt_url)

    def retained_gone() -> bool:
        # A new client each try: paho's loop_start makes a new socket pair and drops the one
        # a client's earlier loop_start made without closing it (a ResourceWarning later).
        received: list[mqtt.MQTTMessage] = []
        probe = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        probe.on_message = lambda c, u, m: received.append(m)
        probe.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        probe.connect(host, port)
        probe.loop_start()
        time.sleep(0.5)
        probe.disconnect()
        probe.loop_stop()
        return not any(m.retain and m.payload for m in received)

    wait_for(retained_gone, "the retained copy cleared")
    # The empty payload that cleared it reached the bridge too: no message, so no dead letter.
    assert reasons(database, device_id) == [Reason.RETAINED]


# --- a message of the wrong kind ----------------------------------------------------------------


def test_a_reading_from_a_locker_is_dead_lettered_as_the_wrong_kind_and_purged_on_withdrawal(
    database: Database,
    clock: FrozenClock,
    mqtt_url: str,
    mqtt_site: str,
    start_bridge: Callable[[], Bridge],
    sims: list[Any],
    tmp_path: Path,
) -> None:
    device_id = f"{mqtt_site}-a"
    site_id = register(database, mqtt_site, device_id, DeviceKind.LOCKER, clock.now())
    card = f"C{mqtt_site[-7:]}"
    with database.write() as session:
        resident = residents.register_resident(
            session, site_id=site_id, name="王阿姨", phone="13800138123", pin="731950",
            now=clock.now(), card_id=card,
        )  # fmt: skip
        health_consent.give_consent(
            session, resident_id=resident.id, site_id=site_id, channel=ConsentChannel.KIOSK,
            now=clock.now(),
        )  # fmt: skip
        resident_id = resident.id
    start_bridge()
    sim = LockerSim(
        device_id, mqtt_site, mqtt_url, tmp_path / "locker", resend_interval=0.3,
        time_scale=0.01, clock=clock.now,
    )  # fmt: skip
    sims.append(sim)
    sim.start()
    wait_for(lambda: device_row(database, device_id).online, "the locker online")
    flags = dict.fromkeys(
        ("body_movement", "cuff_too_loose", "irregular_pulse", "pulse_out_of_range",
         "improper_position"), False,
    )  # fmt: skip
    sim.emit(
        "reading", systolic=148, diastolic=86, mean_arterial_pressure=106.7, unit="mmHg",
        pulse=72, measured_at=utc_ts(clock.now()), card_id=card, flags=flags,
    )  # fmt: skip
    wait_for(lambda: Reason.WRONG_KIND in reasons(database, device_id), "the wrong kind refused")
    # Kept as a dead letter, so acknowledged: the locker does not re-send it forever. (Its
    # re-send round comes 0.3 s after it connected: one that left before the ack came back, on a
    # loaded machine, is refused again, and counted on the same letter.)
    wait_for(lambda: sim.unacked_count() == 0, "the refused event acknowledged")
    assert stored_events(database, device_id) == []
    # What the locker sent before its next event is applied before it (one connection, one
    # bridge, in order): once that event is stored, no re-send of the reading is on its way.
    sim.emit("door_closed", compartment=2)
    wait_for(lambda: stored_events(database, device_id), "the locker's next event stored")
    (letter,) = letters(database, device_id)
    assert "reading" in letter.detail and "locker" in letter.detail
    assert (letter.health_data, letter.card_id) == (True, card)

    with database.write() as session:
        health_consent.withdraw_consent(
            session, resident_id=resident_id, site_id=site_id, channel=ConsentChannel.KIOSK,
            now=clock.now(),
        )  # fmt: skip
    assert letters(database, device_id) == []


# --- impossible times and the device clock -------------------------------------------------------


def test_a_locker_whose_clock_is_minutes_off_raises_the_device_clock_fault_until_set(
    database: Database, device_clock: DeviceClock, started_sim: Callable[..., Any]
) -> None:
    device_clock.offset = timedelta(minutes=3)
    sim = started_sim(DeviceKind.LOCKER, heartbeat_s=5, resend_interval=0.3)
    device_id = sim.device_id
    wait_for(
        lambda: FaultKind.DEVICE_CLOCK in open_faults(database, device_id),
        "the device clock fault",
    )
    # Off, not impossible: what it reports is still applied.
    event = sim.emit("door_closed", compartment=2)
    wait_for(lambda: (event["session"], event["seq"]) in stored_events(database, device_id), "ev")
    device_clock.offset = timedelta(seconds=1)  # NTP set it
    wait_for(
        lambda: FaultKind.DEVICE_CLOCK not in open_faults(database, device_id),
        "the fault closed at the next heartbeat",
    )


@pytest.mark.parametrize(
    "device_time",
    [
        pytest.param(lambda now: now + timedelta(days=3 * 365), id="years-ahead"),
        pytest.param(lambda now: now + timedelta(minutes=6), id="minutes-ahead"),
        pytest.param(lambda now: datetime(1970, 1, 1, tzinfo=UTC), id="never-set-1970"),
    ],
)
def test_a_reading_dated_impossibly_is_refused_with_the_reason_and_acknowledged(
    database: Database,
    clock: FrozenClock,
    device_clock: DeviceClock,
    started_sim: Callable[..., Any],
    device_time: Callable[[datetime], datetime],
) -> None:
    sim = started_sim(DeviceKind.BP_TERMINAL, resend_interval=0.3)
    device_id = sim.device_id
    wait_for(lambda: device_row(database, device_id).online, "the terminal online")
    device_clock.fixed = device_time(clock.now())
    reading = sim.measure({"systolic": 150, "diastolic": 90, "pulse": 70})
    wait_for(lambda: Reason.IMPOSSIBLE_TIME in reasons(database, device_id), "the reading refused")
    wait_for(lambda: sim.unacked_count() == 0, "the refused reading acknowledged")
    # The terminal resends an unacknowledged reading every 0.3 s: on a busy machine a copy
    # may arrive before the first refusal's acknowledgement, and is refused the same way.
    refused = [
        letter
        for letter in letters(database, device_id)
        if letter.reason == Reason.IMPOSSIBLE_TIME
        and json.loads(letter.payload).get("seq") == reading["seq"]
    ]
    assert refused
    for letter in refused:
        assert "ahead" in letter.detail or "pattern" in letter.detail
        assert str(reading["systolic"]) not in letter.detail
        assert letter.health_data  # kept only as long as the health records
    assert (reading["session"], reading["seq"]) not in stored_events(database, device_id)


# Counts the births refused: amqtt replays the retained birth to a returning session.
@pytest.mark.mosquitto
def test_a_terminal_whose_clock_was_never_set_shows_the_device_clock_fault(
    database: Database, device_clock: DeviceClock, started_sim: Callable[..., Any]
) -> None:
    device_clock.fixed = datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC)
    sim = started_sim(DeviceKind.BP_TERMINAL)
    device_id = sim.device_id
    wait_for(
        lambda: FaultKind.DEVICE_CLOCK in open_faults(database, device_id),
        "the device clock fault",
    )
    with database.read() as session:
        birth_refused = session.scalar(
            select(func.count()).where(
                DeadLetter.device_id == device_id,
                DeadLetter.reason == Reason.IMPOSSIBLE_TIME,
                DeadLetter.topic.endswith("/birth"),
            )
        )
    assert birth_refused == 1
