"""Reconciliation against a simulated locker (linli_sim) over a real broker, with the worker's
bridge and its handlers: each kind of disagreement between what the locker reports and the
lending records, as the full states it sends (at birth, on a status request, on a resync)
reveal them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lending_centre import Station, build_station, staff_of
from sqlalchemy import select

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import catalogue as lending_catalogue
from booking.lending import operations as lending
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.mismatches import LendingMismatch, MismatchKind, MismatchResolution
from booking.lending.models.tools import Item, ItemStatus
from devices.bridge import Bridge
from devices.commands import operations as commands
from devices.ingest.handlers import default_handlers
from devices.models.commands import CommandState, DeviceCommand
from devices.models.compartments import Compartment
from devices.models.device import Device
from linli_sim.locker import LockerSim
from tests.broker_waits import clear_retained, wait_until


@dataclass
class Rig:
    station: Station
    database: Database
    locker: LockerSim
    clock: FrozenClock

    def rows(self, model: type, *where: Any) -> list[Any]:
        with self.database.read() as session:
            found = list(session.scalars(select(model).where(*where)))
            for row in found:
                session.expunge(row)
            return found

    def item(self, item_id: int) -> Item:
        [found] = self.rows(Item, Item.id == item_id)
        return found

    def compartment(self, n: int) -> Compartment | None:
        found = self.rows(
            Compartment, Compartment.device_id == self.station.locker, Compartment.n == n
        )
        return found[0] if found else None

    def senses_while_unpowered(self, n: int, *, present: bool) -> None:
        """What the item sensor reads after a change the locker never reported as an event:
        the tool taken out, or put back, while its power was off (a key, a technician)."""
        with self.locker.lock:
            self.locker.compartments[n - 1].item_present = present

    def ask(self, command: str) -> None:
        """Send the locker a `status` or `resync` command, through the worker's bridge."""
        with self.database.write() as session:
            commands.issue(session, self.station.locker, command, {}, self.clock.now(),
                           requested_by="test: reconcile")  # fmt: skip
        wait_until(
            lambda: any(c.state is CommandState.SUCCEEDED and c.name == command
                        for c in self.rows(DeviceCommand)),
            f"the locker's answer to {command}",
        )  # fmt: skip

    def mismatches(self) -> list[LendingMismatch]:
        return self.rows(LendingMismatch)

    def lending_alerts(self) -> list[StaffAlert]:
        """Staff alerts about tools (a power cycle also raises "device offline")."""
        return [a for a in self.rows(StaffAlert) if a.kind.startswith("lending.")]


@pytest.fixture
def rig(
    database: Database, clock: FrozenClock, mqtt_url: str, mqtt_site: str, tmp_path: Path
) -> Iterator[Rig]:
    station = build_station(database, clock, slug=mqtt_site)
    with database.write() as session:
        session.scalars(select(Device)).one().online = False
    bridge = Bridge(
        database, mqtt_url, mqtt_site, clock=clock, handlers=default_handlers(),
        client_id=f"linli-server-{mqtt_site}",
    ).start()  # fmt: skip
    assert bridge.connected.is_set(), "the bridge could not connect to the test broker"
    # The locker reads the server's clock, so the two agree on any date.
    locker = LockerSim(
        station.locker, mqtt_site, mqtt_url, tmp_path / "sim", time_scale=0.1, clock=clock.now
    )
    locker.start()
    rig = Rig(station, database, locker, clock)
    wait_until(
        lambda: rig.rows(Device)[0].online and len(rig.rows(Compartment)) == 8,
        "the locker's birth applied",
    )
    yield rig
    locker.stop()
    bridge.stop()
    clear_retained(mqtt_url, mqtt_site, station.locker)


def test_a_locker_that_agrees_with_the_records_raises_nothing(rig: Rig) -> None:
    rig.ask("resync")  # the locker answers with a birth and its state
    time.sleep(0.3)
    assert rig.mismatches() == [] and rig.lending_alerts() == []


def test_a_tool_gone_while_the_locker_was_off_is_missing_after_its_birth_and_back_when_it_is(
    rig: Rig,
) -> None:
    drill = rig.station.drills[1]
    rig.senses_while_unpowered(2, present=False)
    rig.locker.power_cycle()  # the birth after power-up carries the full state
    [m] = wait_until(rig.mismatches, "the mismatch")
    assert (m.kind, m.item_id, m.compartment) == (MismatchKind.ITEM_ABSENT, drill, 2)
    assert m.device_session == rig.locker.session
    assert rig.item(drill).status is ItemStatus.MISSING
    [alert] = rig.lending_alerts()
    assert alert.kind == "lending.item_missing" and alert.status is AlertStatus.OPEN
    # Never offered: the catalogue counts the two drills still in their compartments.
    with rig.database.read() as session:
        [drills] = [
            e for e in lending_catalogue.catalogue(session, site_id=rig.station.site_id)
            if e.tool_type.id == rig.station.drill_type
        ]  # fmt: skip
        assert drills.in_lockers == 2
    # Every later full state shows the same: still one mismatch, one alert.
    rig.locker.publish_state()
    rig.locker.publish_birth_and_state()
    wait_until(lambda: rig.mismatches()[0].last_seen_at == rig.clock.now(), "the state seen")
    time.sleep(0.3)
    assert len(rig.mismatches()) == 1 and len(rig.lending_alerts()) == 1
    # The tool is put back while the locker is off: its next birth agrees again.
    rig.senses_while_unpowered(2, present=True)
    rig.locker.power_cycle()
    wait_until(lambda: not rig.mismatches()[0].is_open, "the mismatch cleared")
    [m] = rig.mismatches()
    assert m.resolution is MismatchResolution.CLEARED and m.cleared_at is not None
    assert rig.item(drill).status is ItemStatus.AVAILABLE
    assert rig.lending_alerts()[0].status is AlertStatus.RESOLVED


def test_a_tool_in_its_compartment_while_on_loan_asks_returned_without_a_return(
    rig: Rig,
) -> None:
    drill = rig.station.drills[0]
    with rig.database.write() as session:
        loan = lending.lend_at_counter(
            session, staff=staff_of(session, rig.station), item_id=drill,
            resident_id=rig.station.residents[0], now=rig.clock.now(),
        )  # fmt: skip
        loan_id = loan.id
    rig.ask("status")  # the locker answers with its full state
    [m] = wait_until(rig.mismatches, "the mismatch")
    assert (m.kind, m.item_id, m.loan_id) == (MismatchKind.PRESENT_DURING_LOAN, drill, loan_id)
    [alert] = rig.lending_alerts()
    assert alert.kind == "lending.present_during_loan"
    assert alert.resident_id == rig.station.residents[0]
    [loan] = rig.rows(Loan)
    assert loan.status is LoanStatus.ACTIVE
    rig.locker.publish_state()
    rig.locker.power_cycle()
    wait_until(lambda: rig.rows(Device)[0].session_counter == rig.locker.session, "the birth")
    time.sleep(0.3)
    assert len(rig.mismatches()) == 1 and len(rig.lending_alerts()) == 1


def test_a_compartment_is_judged_only_once_its_door_is_shut_and_locked(rig: Rig) -> None:
    drill = rig.station.drills[2]
    assert rig.locker.force_open(3)
    assert rig.locker.person_takes_item(3)
    wait_until(
        lambda: (c := rig.compartment(3)) is not None and c.item_present is False,
        "the tool seen gone",
    )
    rig.locker.publish_state()
    time.sleep(0.3)
    assert rig.mismatches() == []  # the door is open: what it holds is changing
    assert rig.locker.person_closes(3)
    wait_until(lambda: rig.locker.compartment(3)["lock"] == "locked", "the bolt locked")
    [m] = wait_until(rig.mismatches, "the mismatch once locked")
    assert (m.kind, m.item_id) == (MismatchKind.ITEM_ABSENT, drill)
    assert rig.item(drill).status is ItemStatus.MISSING
    # The locker's own "item removed" and the full state after it are one alert, not two.
    assert [a.kind for a in rig.lending_alerts()] == ["lending.item_missing"]
