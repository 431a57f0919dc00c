"""Which device times the server believes, judged against its own (injected) clock, and what
a message of the wrong kind or a retained replay does: at the ingest, without a broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from device_rows import add_device
from sqlalchemy import select

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from devices.ingest import apply as ingest
from devices.ingest.apply import Ack, Inbound, Outcome
from devices.ingest.reactions import Handlers
from devices.models.dead_letters import DeadLetter
from devices.models.device import DeviceKind
from devices.models.faults import DeviceFault, FaultKind
from devices.models.messages import DeviceMessage
from devices.protocol.messages import ProtocolError, Reason, iso_z, parse

TOPIC = "linli/v1/demo/{device}/{kind}"
LOCKER_STATE = {
    "compartments": [{"n": 1, "lock": "locked", "door": "closed", "item_present": True}]
}


def payload(device: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "device": device, "session": 1, "seq": 0, "ts": iso_z(at), **fields}


def apply(
    database: Database, now: datetime, kind: str, body: dict[str, Any], *, retained: bool = False
) -> Outcome:
    item = Inbound(
        TOPIC.format(device=body["device"], kind=kind), json.dumps(body).encode(), now, retained
    )
    with database.write() as session:
        return ingest.apply_batch(session, [item], now, Handlers(), isolate=True)


def refusals(database: Database) -> list[tuple[str, str]]:
    with database.read() as session:
        return [(d.reason, d.detail) for d in session.scalars(select(DeadLetter))]


def faults(database: Database) -> set[FaultKind]:
    with database.read() as session:
        return set(session.scalars(select(DeviceFault.kind).where(DeviceFault.closed_at.is_(None))))


def ledger(database: Database) -> int:
    with database.read() as session:
        return len(session.scalars(select(DeviceMessage.id)).all())


@pytest.mark.parametrize("year", ["1970", "2000", "2023", "2100"])
def test_a_year_outside_2024_to_2099_fails_the_schema_as_an_impossible_time(year: str) -> None:
    body = payload(
        "locker-1", datetime(2026, 11, 24, tzinfo=UTC), type="door_closed", compartment=1
    )
    body["ts"] = f"{year}-01-01T00:00:00Z"
    with pytest.raises(ProtocolError) as refused:
        parse(TOPIC.format(device="locker-1", kind="event"), json.dumps(body).encode())
    assert (refused.value.reason, refused.value.envelope) == (Reason.IMPOSSIBLE_TIME, (1, 0))


def test_an_event_more_than_five_minutes_ahead_of_the_server_is_refused_and_acknowledged(
    database: Database, clock: FrozenClock
) -> None:
    add_device(database)
    ahead = clock.now() + timedelta(minutes=5, seconds=1)
    outcome = apply(database, clock.now(), "event", payload("locker-1", ahead, type="door_closed", compartment=1))  # fmt: skip
    assert refusals(database) == [
        (Reason.IMPOSSIBLE_TIME, "ts is 301 s ahead of the server's clock")
    ]
    assert outcome.acks == [Ack("demo", "locker-1", 1, 0)]
    assert ledger(database) == 0


def test_an_event_from_days_ago_kept_in_the_outbox_is_applied(
    database: Database, clock: FrozenClock
) -> None:
    add_device(database)
    old = clock.now() - timedelta(days=3)
    apply(database, clock.now(), "event", payload("locker-1", old, type="door_closed", compartment=1))  # fmt: skip
    assert (refusals(database), ledger(database)) == ([], 1)


def test_a_reading_measured_after_its_message_was_made_is_refused(
    database: Database, clock: FrozenClock
) -> None:
    add_device(database, "bp-1", kind=DeviceKind.BP_TERMINAL)
    flags = dict.fromkeys(
        ("body_movement", "cuff_too_loose", "irregular_pulse", "pulse_out_of_range",
         "improper_position"), False,
    )  # fmt: skip
    body = payload(
        "bp-1", clock.now(), type="reading", systolic=130, diastolic=80,
        mean_arterial_pressure=96.7, unit="mmHg", pulse=70, card_id=None, flags=flags,
        measured_at=iso_z(clock.now() + timedelta(minutes=1)),
    )  # fmt: skip
    apply(database, clock.now(), "event", body)
    assert refusals(database) == [
        (Reason.IMPOSSIBLE_TIME, "measured_at is later than the message's ts")
    ]


@pytest.mark.parametrize(
    ("off", "fault"),
    [(timedelta(minutes=2, seconds=1), True), (-timedelta(minutes=3), True),
     (timedelta(seconds=90), False)],
)  # fmt: skip
def test_a_heartbeat_more_than_two_minutes_off_raises_the_device_clock_fault(
    database: Database, clock: FrozenClock, off: timedelta, fault: bool
) -> None:
    add_device(database)
    body = payload("locker-1", clock.now() + off)
    del body["seq"]
    apply(database, clock.now(), "heartbeat", body)
    assert (FaultKind.DEVICE_CLOCK in faults(database)) is fault


def test_a_retained_event_is_refused_and_its_copy_cleared(
    database: Database, clock: FrozenClock
) -> None:
    add_device(database)
    body = payload("locker-1", clock.now(), type="door_closed", compartment=1)
    outcome = apply(database, clock.now(), "event", body, retained=True)
    assert [reason for reason, _ in refusals(database)] == [Reason.RETAINED]
    assert outcome.clear_retained == ["linli/v1/demo/locker-1/event"]
    assert ledger(database) == 0


def test_a_retained_state_is_applied_as_ever(database: Database, clock: FrozenClock) -> None:
    add_device(database)
    body = payload("locker-1", clock.now(), state=LOCKER_STATE)
    apply(database, clock.now(), "state", body, retained=True)
    assert (refusals(database), ledger(database)) == ([], 1)


def test_an_empty_payload_clears_a_retained_copy_and_is_no_message(
    database: Database, clock: FrozenClock
) -> None:
    add_device(database)
    item = Inbound("linli/v1/demo/locker-1/event", b"", clock.now(), False)
    with database.write() as session:
        outcome = ingest.apply_batch(session, [item], clock.now(), Handlers())
    assert (refusals(database), outcome.applied) == ([], 0)


@pytest.mark.parametrize(
    ("kind", "device", "body"),
    [
        (DeviceKind.BP_TERMINAL, "bp-1", {"type": "door_opened", "compartment": 1, "command_id": None}),
        (DeviceKind.BP_TERMINAL, "bp-1", {"state": LOCKER_STATE}),
        (DeviceKind.LOCKER, "locker-1", {"state": {"phase": "idle"}}),
    ],
    ids=["locker-event-from-terminal", "locker-state-from-terminal", "terminal-state-from-locker"],
)  # fmt: skip
def test_a_message_of_the_wrong_kind_is_dead_lettered_with_the_reason(
    database: Database, clock: FrozenClock, kind: DeviceKind, device: str, body: dict[str, Any]
) -> None:
    add_device(database, device, kind=kind)
    topic_kind = "state" if "state" in body else "event"
    apply(database, clock.now(), topic_kind, payload(device, clock.now(), **body))
    ((reason, detail),) = refusals(database)
    assert reason == Reason.WRONG_KIND and kind.value in detail
    assert ledger(database) == 0


def test_the_device_clock_alert_resolves_by_itself_once_the_clock_is_set(
    database: Database, clock: FrozenClock
) -> None:
    add_device(database)
    body = payload("locker-1", clock.now() + timedelta(minutes=10))
    del body["seq"]
    apply(database, clock.now(), "heartbeat", body)
    body["ts"] = iso_z(clock.now())
    apply(database, clock.now(), "heartbeat", body)
    assert FaultKind.DEVICE_CLOCK not in faults(database)
    with database.read() as session:
        (alert,) = session.scalars(select(StaffAlert).where(StaffAlert.kind == "device.clock"))
        assert alert.status is AlertStatus.RESOLVED
