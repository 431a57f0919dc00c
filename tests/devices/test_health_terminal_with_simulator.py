"""The blood-pressure terminal end to end: linli_sim terminals over a real broker, the bridge
with the worker's handlers, and booking.health.operations deciding whose each reading is."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from bridged_terminal import bridged_terminal
from sqlalchemy import func, select
from test_bridge import wait_for

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health import operations as health
from booking.health import pairing as health_pairing
from booking.health.models.consents import ConsentChannel
from booking.health.models.pairings import PairingStatus, TerminalPairing
from booking.health.models.readings import BpReading
from booking.people import residents
from devices.models.device import Device, DeviceKind
from devices.models.messages import DeviceMessage
from linli_sim.bp_terminal import BpTerminalSim


@dataclass
class Setup:
    database: Database
    clock: FrozenClock
    terminal: BpTerminalSim
    device_id: str
    site_id: int
    alone: int  # consent, card C-ALONE
    shy: int  # no consent, card C-SHY


@pytest.fixture
def setup(database: Database, mqtt_url: str, mqtt_site: str, tmp_path: Path) -> Iterator[Setup]:
    # A frozen clock the test moves by hand (pairing expiry), started at the real time so
    # the terminal's measured_at and the server's "now" agree.
    clock = FrozenClock(datetime.now(UTC))
    device_id = f"{mqtt_site}-bp"
    now = clock.now()
    with database.write() as session:
        site = Site(slug=mqtt_site, name_zh="测试站", name_en="Test centre")
        session.add(site)
        session.flush()
        session.add(
            Device(
                site_id=site.id,
                device_id=device_id,
                kind=DeviceKind.BP_TERMINAL,
                name="bp",
                mqtt_password_hash="$7$unused",
                capabilities={},
                online=False,
                created_at=now,
            )
        )
        alone = residents.register_resident(
            session, site_id=site.id, name="王秀英", phone="13900000011", pin="275139", now=now,
            card_id=f"C-ALONE-{mqtt_site}", lives_alone=True,
        )  # fmt: skip
        shy = residents.register_resident(
            session, site_id=site.id, name="张伟", phone="13900000012", pin="275139", now=now,
            card_id=f"C-SHY-{mqtt_site}",
        )  # fmt: skip
        health_consent.give_consent(
            session, resident_id=alone.id, site_id=site.id, channel=ConsentChannel.KIOSK, now=now
        )
        ids = (site.id, alone.id, shy.id)
    with bridged_terminal(
        database, clock, mqtt_url, mqtt_site, device_id, tmp_path / "state"
    ) as terminal:
        yield Setup(database, clock, terminal, device_id, *ids)


def stored(s: Setup) -> list[tuple[int, float, float]]:
    with s.database.read() as session:
        return [
            (r.resident_id, r.systolic, r.diastolic)
            for r in session.scalars(select(BpReading).order_by(BpReading.id))
        ]


def event_count(s: Setup, event_type: str) -> int:
    with s.database.read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(DeviceMessage)
                .where(
                    DeviceMessage.device_id == s.device_id, DeviceMessage.event_type == event_type
                )
            )
            or 0
        )


def settled(s: Setup, readings: int = 1) -> None:
    """Every event the terminal sent is acknowledged (so applied and committed)."""
    wait_for(lambda: s.terminal.unacked_count() == 0, "every event acknowledged")
    wait_for(
        lambda: event_count(s, "reading") + event_count(s, "measurement_error") >= readings,
        "the outcome stored",
    )


def pair(s: Setup, resident_id: int) -> int:
    with s.database.write() as session:
        return health_pairing.start_pairing(
            session,
            site_id=s.site_id,
            resident_id=resident_id,
            device_id=s.device_id,
            now=s.clock.now(),
        ).id


def pairing(s: Setup, pairing_id: int) -> TerminalPairing:
    with s.database.read() as session:
        found = session.get(TerminalPairing, pairing_id)
        assert found is not None
        session.expunge(found)
        return found


def test_a_card_read_then_a_reading_is_stored_for_the_card_holder_and_no_value_is_logged(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    setup.terminal.read_card(f"C-ALONE-{setup.device_id.removesuffix('-bp')}")
    setup.terminal.measure({"systolic": 187, "diastolic": 113, "pulse": 81})
    settled(setup)
    assert stored(setup) == [(setup.alone, 187, 113)]
    with setup.database.read() as session:
        payloads = session.scalars(
            select(DeviceMessage.payload).where(DeviceMessage.event_type == "reading")
        ).all()
    assert all("systolic" not in p and "diastolic" not in p and "pulse" not in p for p in payloads)
    # The server's own log lines (the embedded test broker logs whole packets: not ours).
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("devices", "booking", "kiosk")]
    assert any("reading at" in r.getMessage() for r in ours)
    # The site slug (and so the device id) is random hex and may contain "187": drop it first.
    site = setup.device_id.removesuffix("-bp")
    logged = "\n".join(r.getMessage() for r in ours).replace(site, "<site>")
    assert "187" not in logged and "113" not in logged


def test_measure_now_at_the_kiosk_gives_the_next_reading_to_the_signed_in_resident(
    setup: Setup,
) -> None:
    pairing_id = pair(setup, setup.alone)
    setup.terminal.measure({"systolic": 131, "diastolic": 84})
    settled(setup)
    assert stored(setup) == [(setup.alone, 131, 84)]
    done = pairing(setup, pairing_id)
    assert done.status is PairingStatus.DONE and done.reading_id is not None


def test_a_reading_after_the_pairing_expired_is_attached_to_nobody(setup: Setup) -> None:
    pairing_id = pair(setup, setup.alone)
    setup.clock.advance(timedelta(minutes=3, seconds=1))
    setup.terminal.measure({"systolic": 131, "diastolic": 84})
    settled(setup)
    assert stored(setup) == []
    assert pairing(setup, pairing_id).status is PairingStatus.EXPIRED


def test_a_reading_with_no_card_and_no_pairing_is_acknowledged_and_kept_by_nobody(
    setup: Setup,
) -> None:
    setup.terminal.measure({"systolic": 150, "diastolic": 95})
    settled(setup)
    assert stored(setup) == []
    assert event_count(setup, "reading") == 1


def test_the_card_of_a_resident_without_consent_stores_nothing(setup: Setup) -> None:
    setup.terminal.read_card(f"C-SHY-{setup.device_id.removesuffix('-bp')}")
    setup.terminal.measure({"systolic": 150, "diastolic": 95})
    settled(setup)
    assert stored(setup) == []


@pytest.mark.parametrize("code", ["cuff_error", "motion", "timeout"])
def test_a_measurement_error_ends_the_kiosk_pairing_with_its_code(setup: Setup, code: str) -> None:
    pairing_id = pair(setup, setup.alone)
    setup.terminal.measure(error=code)
    settled(setup)
    ended = pairing(setup, pairing_id)
    assert (ended.status, ended.failure) == (PairingStatus.FAILED, code)
    assert stored(setup) == []


def test_duplicate_reading_messages_are_counted_once(setup: Setup) -> None:
    setup.terminal.read_card(f"C-ALONE-{setup.device_id.removesuffix('-bp')}")
    event: dict[str, Any] = setup.terminal.measure({"systolic": 188, "diastolic": 112})
    # The same reading under a new sequence number, as a confused firmware might resend it …
    fields = ("systolic", "diastolic", "mean_arterial_pressure", "unit", "pulse", "measured_at")
    copy = {k: event[k] for k in (*fields, "card_id", "flags")}
    setup.terminal.emit("reading", **copy)
    # … and that message again byte for byte, as a broker redelivers it (same session, seq).
    assert setup.terminal.send_duplicate_of_last()
    settled(setup, readings=2)
    assert stored(setup) == [(setup.alone, 188, 112)]
    with setup.database.read() as session:
        assert len(health.health_alerts(session, site_id=setup.site_id)) == 1
