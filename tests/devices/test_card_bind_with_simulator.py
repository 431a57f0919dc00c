"""Binding a resident's card by a tap on the blood-pressure terminal, end to end: a linli_sim
terminal over a real Mosquitto, the bridge with the worker's handlers, and the console's
waiting bind taking the card_read instead of a measurement pairing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bridged_terminal import bridged_terminal
from sqlalchemy import func, select
from test_bridge import wait_for

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health import pairing as health_pairing
from booking.health.models.consents import ConsentChannel
from booking.health.models.pairings import PairingStatus
from booking.health.models.readings import BpReading
from booking.people import cards, residents
from booking.people.models.card_binds import CardBind, CardBindStatus
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount, StaffRole
from booking.people.staff import create_staff
from devices.models.device import Device, DeviceKind
from devices.models.messages import DeviceMessage
from linli_sim.bp_terminal import BpTerminalSim

pytestmark = pytest.mark.mosquitto


@dataclass
class Setup:
    database: Database
    clock: FrozenClock
    terminal: BpTerminalSim
    device_id: str
    site_id: int
    staff_id: int
    new: int  # no card yet, consent given
    holder: int  # holds card H-<site>


@pytest.fixture
def setup(database: Database, mqtt_url: str, mqtt_site: str, tmp_path: Path) -> Iterator[Setup]:
    # Started at the real time so the terminal's timestamps and the server's "now" agree.
    clock = FrozenClock(datetime.now(UTC))
    device_id = f"{mqtt_site}-bp"
    now = clock.now()
    with database.write() as session:
        site = Site(slug=mqtt_site, name_zh="测试站", name_en="Test centre")
        session.add(site)
        session.flush()
        session.add(
            Device(
                site_id=site.id, device_id=device_id, kind=DeviceKind.BP_TERMINAL, name="bp",
                mqtt_password_hash="$7$unused", capabilities={}, online=False, created_at=now,
            )
        )  # fmt: skip
        staff = create_staff(
            session, site_id=site.id, username="zhao", display_name="赵",
            password="linli-staff-2026", role=StaffRole.STAFF, now=now,
        )  # fmt: skip
        new = residents.register_resident(
            session, site_id=site.id, name="王秀英", phone="13900000021", pin="275139", now=now
        )
        holder = residents.register_resident(
            session, site_id=site.id, name="张伟", phone="13900000022", pin="275139", now=now,
            card_id=f"H-{mqtt_site}",
        )  # fmt: skip
        health_consent.give_consent(
            session, resident_id=new.id, site_id=site.id, channel=ConsentChannel.KIOSK, now=now
        )
        ids = (site.id, staff.id, new.id, holder.id)
    with bridged_terminal(
        database, clock, mqtt_url, mqtt_site, device_id, tmp_path / "state"
    ) as terminal:
        yield Setup(database, clock, terminal, device_id, *ids)


def start_bind(s: Setup, resident_id: int) -> int:
    with s.database.write() as session:
        return cards.start_bind(
            session, staff=session.get_one(StaffAccount, s.staff_id),
            resident=session.get_one(Resident, resident_id), device_id=s.device_id,
            now=s.clock.now(),
        ).id  # fmt: skip


def bind_status(s: Setup, bind_id: int) -> CardBindStatus:
    with s.database.read() as session:
        return session.get_one(CardBind, bind_id).status


def card_reads(s: Setup) -> int:
    with s.database.read() as session:
        return int(session.scalar(
            select(func.count()).select_from(DeviceMessage).where(
                DeviceMessage.device_id == s.device_id, DeviceMessage.event_type == "card_read")
        ) or 0)  # fmt: skip


def test_a_card_tapped_while_staff_wait_is_bound_and_then_identifies_the_resident(
    setup: Setup,
) -> None:
    bind_id = start_bind(setup, setup.new)
    card = f"NEW-{setup.device_id.removesuffix('-bp')}"
    setup.terminal.read_card(card)
    wait_for(lambda: bind_status(setup, bind_id) is CardBindStatus.BOUND, "the card bound")
    with setup.database.read() as session:
        assert session.get_one(Resident, setup.new).card_id == card
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "resident.card_bound"))
        assert entry is not None and entry.subject == f"resident:{setup.new}"
        assert card not in str(entry.detail)
    # The next tap is a measurement's again: the card now identifies its holder.
    setup.terminal.read_card(card)
    setup.terminal.measure({"systolic": 131, "diastolic": 84, "pulse": 70})
    wait_for(lambda: _readings(setup) == [setup.new], "the reading stored for the new holder")


def test_a_card_of_someone_else_tapped_while_staff_wait_is_refused_and_no_pairing_starts(
    setup: Setup,
) -> None:
    with setup.database.write() as session:
        kiosk_pairing = health_pairing.start_pairing(
            session, site_id=setup.site_id, resident_id=setup.new, device_id=setup.device_id,
            now=setup.clock.now(),
        ).id  # fmt: skip
    bind_id = start_bind(setup, setup.new)
    setup.terminal.read_card(f"H-{setup.device_id.removesuffix('-bp')}")
    wait_for(lambda: bind_status(setup, bind_id) is CardBindStatus.REFUSED, "the bind refused")
    with setup.database.read() as session:
        assert session.get_one(CardBind, bind_id).failure == "card_taken"
        assert session.get_one(Resident, setup.new).card_id is None
        # The read was the bind's: the kiosk pairing was not ended by "another card".
        from booking.health.models.pairings import TerminalPairing

        assert session.get_one(TerminalPairing, kiosk_pairing).status is PairingStatus.WAITING
    assert card_reads(setup) == 1


def test_an_unbound_card_tapped_later_identifies_nobody(setup: Setup) -> None:
    card = f"H-{setup.device_id.removesuffix('-bp')}"
    with setup.database.write() as session:
        cards.unbind(
            session, staff=session.get_one(StaffAccount, setup.staff_id),
            resident=session.get_one(Resident, setup.holder), now=setup.clock.now(), reason="lost",
        )  # fmt: skip
        health_consent.give_consent(
            session, resident_id=setup.holder, site_id=setup.site_id,
            channel=ConsentChannel.KIOSK, now=setup.clock.now(),
        )  # fmt: skip
    setup.terminal.read_card(card)
    setup.terminal.measure({"systolic": 131, "diastolic": 84, "pulse": 70})
    wait_for(lambda: card_reads(setup) == 1, "the card read applied")
    wait_for(lambda: setup.terminal.unacked_count() == 0, "every event acknowledged")
    wait_for(lambda: _reading_events(setup) == 1, "the reading applied")
    assert _readings(setup) == []


def _readings(s: Setup) -> list[int]:
    with s.database.read() as session:
        return list(session.scalars(select(BpReading.resident_id).order_by(BpReading.id)))


def _reading_events(s: Setup) -> int:
    with s.database.read() as session:
        return int(session.scalar(
            select(func.count()).select_from(DeviceMessage).where(
                DeviceMessage.device_id == s.device_id, DeviceMessage.event_type == "reading")
        ) or 0)  # fmt: skip
