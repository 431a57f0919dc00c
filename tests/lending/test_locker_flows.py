"""Borrowing and returning at the kiosk against a simulated locker (linli_sim) over a real
broker, with the worker's bridge and its handlers recording what the locker reports; and
every way it can go wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from kiosk_helpers import Resident
from lending_centre import Station, build_station
from sqlalchemy import select

from booking.alerts.models.alerts import AlertSeverity, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.lending import door_session
from booking.lending import jobs as lending_jobs
from booking.lending.models.door_sessions import DoorPurpose, DoorSession, ReleaseReason
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.tools import Item, ItemStatus
from devices.bridge import Bridge
from devices.ingest.handlers import default_handlers
from devices.locker import opening as lending_locker
from devices.models.commands import DeviceCommand
from devices.models.device import Device
from kiosk.extensions import database as app_database
from linli_sim.locker import LockerSim
from linli_sim.outbox import DeviceStore
from tests.broker_waits import clear_retained, wait_until


@dataclass
class Rig:
    app: Flask
    station: Station
    database: Database
    locker: LockerSim
    clock: FrozenClock
    bridge: Bridge

    def resident(self, index: int = 0) -> Resident:
        resident = Resident(self.app, self.station.phones[index])
        resident.sign_in()
        return resident

    def status(self, resident: Resident, page: str) -> dict[str, Any]:
        response = resident.client.get(page + "/status")
        assert response.status_code == 200, response.get_data(as_text=True)
        state: dict[str, Any] = response.get_json()
        return state

    def wait_phase(self, resident: Resident, page: str, *phases: str) -> dict[str, Any]:
        return wait_until(
            lambda: (s := self.status(resident, page))["phase"] in phases and s,
            f"phase {phases} of {page}",
        )

    def borrow(self, resident: Resident, tool_type: int | None = None) -> str:
        response = resident.post(f"/kiosk/tools/{tool_type or self.station.drill_type}/borrow")
        assert response.status_code == 302
        page = response.headers["Location"]
        assert "/kiosk/tools/pickup/" in page, page
        return page

    def give_back(self, resident: Resident, loan_id: int) -> str:
        response = resident.post(f"/kiosk/tools/loans/{loan_id}/return")
        assert response.status_code == 302
        page = response.headers["Location"]
        assert "/kiosk/tools/return/" in page, page
        return page

    def open_for_pickup(self, resident: Resident, n: int = 1) -> str:
        """A pickup of the drill up to its door standing open; the kiosk's pickup page."""
        page = self.borrow(resident)
        self.wait_phase(resident, page, "unlocked")
        assert self.locker.person_opens(n)
        self.wait_phase(resident, page, "door_open")
        return page

    def take_tool(self, resident: Resident, n: int = 1) -> int:
        """A whole good pickup of the drill in compartment n; the new loan's id."""
        page = self.open_for_pickup(resident, n)
        assert self.locker.person_takes_item(n)
        assert self.locker.person_closes(n)
        done = self.wait_phase(resident, page, "done")
        # A real resident does not come back within the 50 ms the bolt takes to lock again.
        wait_until(lambda: self.locker.compartment(n)["lock"] == "locked", "the bolt locked")
        return int(done["done_url"].split("/loans/")[1].split("/")[0])

    def kill_worker(self) -> None:
        """The worker dies as under SIGKILL: no goodbye to the broker, nothing more recorded,
        nothing it had received acknowledged (the broker and the locker's outbox keep it)."""
        self.bridge._stop.set()
        dispatcher = getattr(self.bridge, "_commands", None)  # the worker's command sender
        if dispatcher is not None:
            dispatcher.stop(1.0)
        client = self.bridge._client
        client.loop_stop()
        sock = client.socket()
        if sock is not None:
            sock.close()
        if self.bridge._worker is not None:
            self.bridge._worker.join(5.0)

    def start_worker(self) -> None:
        """The worker comes back (the same client id, so the broker's session resumes)."""
        self.bridge = start_bridge(self.database, self.clock, self.station.slug,
                                   self.app.config["MQTT_URL"])  # fmt: skip

    def rows(self, model: type, *where: Any) -> list[Any]:
        with self.database.read() as session:
            found = list(session.scalars(select(model).where(*where)))
            for row in found:
                session.expunge(row)
            return found


@pytest.fixture
def rig(
    app: Flask, clock: FrozenClock, mqtt_url: str, mqtt_site: str, tmp_path: Path
) -> Iterator[Rig]:
    with app.app_context():
        database = app_database()
        station = build_station(database, clock, slug=mqtt_site)
    app.config["SITE"] = station.slug
    app.config["MQTT_URL"] = mqtt_url
    with database.write() as session:
        session.scalars(select(Device)).one().online = False
    bridge = start_bridge(database, clock, mqtt_site, mqtt_url)
    # time_scale 0.1: the bolt moves in 50 ms and relocks an unopened door after 6 s.
    # The locker reads the same clock as the server, so a command's expiry means the same to both.
    # It sends what the server has not acknowledged again every half second.
    locker = LockerSim(
        station.locker, mqtt_site, mqtt_url, tmp_path / "sim", time_scale=0.1, clock=clock.now,
        resend_interval=0.5,
    )  # fmt: skip
    locker.start()
    rig = Rig(app, station, database, locker, clock, bridge)
    wait_until(
        lambda: rig.rows(Device)[0].online and len(rig.rows(Device)) == 1, "the locker online"
    )
    yield rig
    locker.stop()
    rig.bridge.stop()
    clear_retained(mqtt_url, mqtt_site, station.locker)


def start_bridge(database: Database, clock: FrozenClock, site: str, mqtt_url: str) -> Bridge:
    bridge = Bridge(
        database, mqtt_url, site, clock=clock, handlers=default_handlers(),
        client_id=f"linli-server-{site}",
    ).start()  # fmt: skip
    assert bridge.connected.is_set(), "the bridge could not connect to the test broker"
    return bridge


# --- the good paths -----------------------------------------------------------------------------


def test_a_drill_taken_from_its_compartment_becomes_a_loan_with_its_due_date_on_the_slip(
    rig: Rig,
) -> None:
    resident = rig.resident()
    page = rig.borrow(resident)
    assert rig.rows(Loan) == []
    rig.wait_phase(resident, page, "unlocked")
    assert rig.locker.person_opens(1)
    rig.wait_phase(resident, page, "door_open")
    assert rig.rows(Loan) == []  # the door is open, the tool not yet out
    assert rig.locker.person_takes_item(1)
    assert rig.locker.person_closes(1)
    done = rig.wait_phase(resident, page, "done")
    slip = resident.page(done["done_url"])
    assert "11月27日周五 09:30" in slip  # three days from Tuesday 09:30, Shanghai time
    [loan] = rig.rows(Loan)
    assert loan.status is LoanStatus.ACTIVE and loan.item_id == rig.station.drills[0]
    lent = rig.rows(LendingEvent, LendingEvent.action == LendingAction.LENT)[0]
    assert lent.actor == f"device:{rig.station.locker}"
    assert lent.device_id == rig.station.locker and lent.device_seq is not None
    [reservation] = rig.rows(DoorSession)
    assert lent.device_command_id == reservation.command_id


def test_the_open_command_names_the_pickup_that_asked_for_it(rig: Rig) -> None:
    resident = rig.resident()
    page = rig.borrow(resident)
    rig.wait_phase(resident, page, "unlocked")
    [reservation] = rig.rows(DoorSession)
    [command] = rig.rows(DeviceCommand, DeviceCommand.name == "open")
    assert command.id == reservation.command_id
    assert command.requested_by == f"pickup:{reservation.id}"
    assert command.args == {"compartment": 1}


def test_a_tool_put_back_in_its_compartment_is_returned_and_asked_about(rig: Rig) -> None:
    resident = rig.resident()
    loan_id = rig.take_tool(resident)
    page = rig.give_back(resident, loan_id)
    rig.wait_phase(resident, page, "unlocked")
    assert rig.locker.person_opens(1)
    rig.wait_phase(resident, page, "door_open")
    assert rig.locker.person_puts_item(1)
    assert rig.locker.person_closes(1)
    done = rig.wait_phase(resident, page, "done")
    assert "/condition" in done["done_url"]
    assert 'value="damaged"' in resident.page(done["done_url"])
    resident.post(done["done_url"], condition="fine")
    [loan] = rig.rows(Loan)
    assert loan.status is LoanStatus.RETURNED
    assert rig.rows(Item, Item.id == loan.item_id)[0].status is ItemStatus.AVAILABLE
    assert rig.rows(StaffAlert) == []


# --- what goes wrong ----------------------------------------------------------------------------


def test_an_offline_locker_is_told_plainly_and_nothing_is_lent(rig: Rig) -> None:
    rig.locker.stop()
    wait_until(lambda: not rig.rows(Device)[0].online, "the locker offline")
    resident = rig.resident()
    assert "button-borrow" not in resident.page("/kiosk/tools")  # not offered at all
    response = resident.post(f"/kiosk/tools/{rig.station.drill_type}/borrow")
    assert response.headers["Location"].endswith("/kiosk/tools")
    page = resident.page(response.headers["Location"])
    assert "not connected" in page or "未连接" in page
    assert rig.rows(DoorSession) == [] and rig.rows(Loan) == []


def test_a_command_not_answered_in_time_releases_the_pickup(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lending_locker, "OPEN_TTL", timedelta(seconds=1))
    # The locker drops off the broker without a word; the registry still thinks it online.
    rig.locker.stop()
    # Let the bridge apply the locker's goodbye first, or it would undo the pretence below.
    wait_until(lambda: not rig.rows(Device)[0].online, "the locker's offline status applied")
    with rig.database.write() as session:
        session.scalars(select(Device)).one().online = True
    resident = rig.resident()
    page = rig.borrow(resident)
    state = rig.wait_phase(resident, page, "failed")
    assert "did not answer" in state["message"] or "没有回应" in state["message"]
    [reservation] = rig.rows(DoorSession)
    assert reservation.release_reason is ReleaseReason.TIMED_OUT
    assert rig.rows(Item, Item.id == reservation.item_id)[0].status is ItemStatus.AVAILABLE


def test_a_compartment_left_open_makes_the_pickup_wait_then_say_so_plainly(rig: Rig) -> None:
    rig.locker.leave_door_open(1)  # also a forced open: staff are alerted
    resident = rig.resident()
    page = rig.borrow(resident)
    state = rig.status(resident, page)
    assert state["phase"] == "closing"
    assert "just closing" in state["message"] or "正在关闭" in state["message"]
    assert rig.rows(DeviceCommand, DeviceCommand.name == "open") == []  # nothing to refuse
    for _ in range(9):  # the screen polls all along, which keeps the resident signed in
        rig.clock.advance(door_session.CLOSING_PATIENCE / 8.5)
        state = rig.status(resident, page)
    assert state["phase"] == "failed"
    assert "did not close" in state["message"] or "没有及时关好" in state["message"]
    [reservation] = rig.rows(DoorSession)
    assert reservation.release_reason is ReleaseReason.COMPARTMENT_NOT_FREE
    assert rig.rows(Item, Item.id == reservation.item_id)[0].status is ItemStatus.AVAILABLE
    assert rig.rows(Loan) == []


def test_a_jammed_lock_rejects_the_pickup_and_staff_are_alerted(rig: Rig) -> None:
    rig.locker.jam(1)
    wait_until(lambda: rig.rows(StaffAlert), "the jam alert")
    resident = rig.resident()
    page = rig.borrow(resident)
    state = rig.wait_phase(resident, page, "failed")
    assert state["message"]
    [reservation] = rig.rows(DoorSession)
    assert reservation.release_reason is ReleaseReason.JAMMED
    assert [a.kind for a in rig.rows(StaffAlert)] == ["locker.jammed"]


def test_a_lock_that_jams_after_unlocking_ends_the_pickup(rig: Rig) -> None:
    resident = rig.resident()
    page = rig.borrow(resident)
    rig.wait_phase(resident, page, "unlocked")
    rig.locker.jam(1)
    rig.wait_phase(resident, page, "failed")
    [reservation] = rig.rows(DoorSession)
    assert reservation.release_reason is ReleaseReason.JAMMED
    assert rig.rows(Loan) == []


def test_the_door_closed_with_the_tool_inside_makes_no_loan_and_the_tool_stays_available(
    rig: Rig,
) -> None:
    resident = rig.resident()
    page = rig.borrow(resident)
    rig.wait_phase(resident, page, "unlocked")
    rig.locker.person_opens(1)
    rig.wait_phase(resident, page, "door_open")
    rig.locker.person_closes(1)
    state = rig.wait_phase(resident, page, "failed")
    assert "still inside" in state["message"] or "仍在柜内" in state["message"]
    assert rig.rows(Loan) == []
    assert rig.rows(Item, Item.id == rig.station.drills[0])[0].status is ItemStatus.AVAILABLE


def test_a_door_not_opened_within_60_seconds_releases_the_pickup(rig: Rig) -> None:
    resident = rig.resident()
    page = rig.borrow(resident)
    rig.wait_phase(resident, page, "unlocked")
    for _ in range(5):  # the screen polls all along, which keeps the resident signed in
        rig.clock.advance(timedelta(seconds=14.25))
        state = rig.status(resident, page)
    assert state["phase"] == "failed"
    assert "within a minute" in state["message"] or "一分钟" in state["message"]
    [reservation] = rig.rows(DoorSession)
    assert reservation.release_reason is ReleaseReason.DOOR_NOT_OPENED


def test_a_door_left_open_alerts_staff_and_is_in_the_items_history(rig: Rig) -> None:
    resident = rig.resident()
    page = rig.borrow(resident)
    rig.wait_phase(resident, page, "unlocked")
    rig.locker.person_opens(1)
    rig.wait_phase(resident, page, "door_open")
    rig.locker.person_takes_item(1)
    rig.locker.leave_door_open(1)
    wait_until(
        lambda: rig.rows(LendingEvent, LendingEvent.action == LendingAction.DOOR_LEFT_OPEN),
        "the door-left-open record",
    )
    [alert] = rig.rows(StaffAlert)
    assert alert.kind == "locker.door_left_open"
    assert len(rig.rows(Loan)) == 1  # the tool did leave: the loan stands


def test_a_forced_door_and_a_tool_gone_without_a_loan_alert_staff_urgently(rig: Rig) -> None:
    rig.locker.force_open(2)
    rig.locker.person_takes_item(2)
    wait_until(
        lambda: rig.rows(StaffAlert, StaffAlert.kind == "lending.item_missing"),
        "the missing-item alert",
    )
    kinds = {a.kind: a.severity for a in rig.rows(StaffAlert)}
    assert kinds == {
        "locker.forced_open": AlertSeverity.URGENT,
        "lending.item_missing": AlertSeverity.URGENT,
    }
    assert rig.rows(Loan) == []
    actions = [
        e.action for e in rig.rows(LendingEvent, LendingEvent.item_id == rig.station.drills[1])
    ]
    assert actions == [LendingAction.FORCED_OPEN, LendingAction.ITEM_MISSING]


def test_a_tool_put_into_the_wrong_compartment_is_caught_and_the_return_not_counted(
    rig: Rig,
) -> None:
    resident = rig.resident()
    loan_id = rig.take_tool(resident)
    page = rig.give_back(resident, loan_id)
    rig.wait_phase(resident, page, "unlocked")
    rig.locker.person_opens(1)
    rig.wait_phase(resident, page, "door_open")
    # Compartment 5 stands empty; someone pries it and puts the drill there instead.
    rig.locker.force_open(5)
    rig.locker.person_takes_item(5)  # what the simulator had in it (nothing of ours)
    rig.locker.person_puts_item(5)
    rig.locker.person_closes(1)
    state = rig.wait_phase(resident, page, "failed")
    assert "still empty" in state["message"] or "仍是空的" in state["message"]
    assert rig.rows(Loan)[0].status is LoanStatus.ACTIVE
    assert rig.rows(StaffAlert, StaffAlert.kind == "lending.wrong_compartment")


def test_a_return_into_an_occupied_compartment_is_refused_and_staff_told(rig: Rig) -> None:
    resident = rig.resident()
    loan_id = rig.take_tool(resident)
    # Something ends up in the drill's empty compartment (forced open, then put in).
    rig.locker.force_open(1)
    rig.locker.person_puts_item(1)
    rig.locker.person_closes(1)
    wait_until(
        lambda: rig.rows(StaffAlert, StaffAlert.kind == "lending.wrong_compartment"),
        "the unexpected-item alert",
    )
    page = rig.give_back(resident, loan_id)
    # Refused once the compartment has closed and relocked (until then it waits for it).
    rig.wait_phase(resident, page, "failed")
    [attempt] = rig.rows(DoorSession, DoorSession.purpose == DoorPurpose.RETURN)
    assert attempt.release_reason is ReleaseReason.COMPARTMENT_OCCUPIED
    assert attempt.command_id is None  # the compartment was never opened
    assert rig.rows(StaffAlert, StaffAlert.kind == "lending.compartment_occupied")
    assert rig.rows(Loan)[0].status is LoanStatus.ACTIVE


def test_a_tool_put_straight_back_before_the_door_closes_ends_the_loan_quietly(
    rig: Rig,
) -> None:
    resident = rig.resident()
    page = rig.borrow(resident)
    rig.wait_phase(resident, page, "unlocked")
    rig.locker.person_opens(1)
    rig.wait_phase(resident, page, "door_open")
    rig.locker.person_takes_item(1)
    rig.wait_phase(resident, page, "done")
    rig.locker.person_puts_item(1)  # changed their mind
    rig.locker.person_closes(1)
    wait_until(lambda: rig.rows(Loan)[0].status is LoanStatus.RETURNED, "the loan ended at once")
    assert rig.rows(Item, Item.id == rig.station.drills[0])[0].status is ItemStatus.AVAILABLE
    assert rig.rows(StaffAlert) == []


def test_a_tool_taken_out_during_a_maintenance_opening_goes_to_maintenance_without_alarm(
    rig: Rig, mqtt_url: str
) -> None:
    from devices.commands import waiting

    outcome = waiting.send_and_wait(
        rig.database, rig.station.locker, "open", {"compartment": 3},
        requested_by="maintenance:lend-staff:check the battery", clock=rig.clock,
    )  # fmt: skip
    assert outcome.ok
    rig.locker.person_opens(3)
    rig.locker.person_takes_item(3)
    drill = rig.station.drills[2]
    wait_until(
        lambda: rig.rows(Item, Item.id == drill)[0].status is ItemStatus.MAINTENANCE,
        "the drill in maintenance",
    )
    actions = [e.action for e in rig.rows(LendingEvent, LendingEvent.item_id == drill)]
    assert actions == [LendingAction.MAINTENANCE_OPEN, LendingAction.TO_MAINTENANCE]
    assert rig.rows(StaffAlert) == []


# --- one door cycle at a time -------------------------------------------------------------------


def test_a_return_into_a_closing_compartment_waits_instead_of_refusing(rig: Rig) -> None:
    resident = rig.resident()
    page = rig.borrow(resident)
    rig.wait_phase(resident, page, "unlocked")
    assert rig.locker.person_opens(1)
    rig.wait_phase(resident, page, "door_open")
    assert rig.locker.person_takes_item(1)
    done = rig.wait_phase(resident, page, "done")  # lent while the door is still open
    loan_id = int(done["done_url"].split("/loans/")[1].split("/")[0])
    # The resident changes their mind at once: the compartment has not closed yet.
    back = rig.give_back(resident, loan_id)
    state = rig.status(resident, back)
    assert state["phase"] == "closing" and state["open"] is True
    assert "just closing" in state["message"] or "正在关闭" in state["message"]
    assert len(rig.rows(DeviceCommand, DeviceCommand.name == "open")) == 1
    assert rig.locker.person_closes(1)
    # The screen carries on by itself once the door has closed and the bolt has locked.
    rig.wait_phase(resident, back, "unlocked")
    assert rig.locker.person_opens(1)
    rig.wait_phase(resident, back, "door_open")
    assert rig.locker.person_puts_item(1)
    assert rig.locker.person_closes(1)
    returned = rig.wait_phase(resident, back, "done")
    assert "/condition" in returned["done_url"]
    opens = rig.rows(DeviceCommand, DeviceCommand.name == "open")
    assert [c.state.value for c in opens] == ["succeeded", "succeeded"]  # nothing refused
    [loan] = rig.rows(Loan)
    assert loan.status is LoanStatus.RETURNED
    assert rig.rows(DoorSession, DoorSession.release_reason.is_not(None)) == []


# --- the worker away in the middle of a pickup -------------------------------------------------------


def pickup_while_the_worker_is_dead(rig: Rig, resident: Resident) -> str:
    """The compartment unlocks, the worker dies, and the resident takes the drill and closes
    the door while nothing on the server listens; the pickup's page."""
    page = rig.borrow(resident)
    rig.wait_phase(resident, page, "unlocked")
    rig.kill_worker()
    assert rig.locker.person_opens(1)
    assert rig.locker.person_takes_item(1)
    assert rig.locker.person_closes(1)
    assert rig.rows(Loan) == []
    return page


def test_a_worker_killed_during_a_pickup_records_the_loan_from_the_events_after_its_restart(
    rig: Rig,
) -> None:
    resident = rig.resident()
    page = pickup_while_the_worker_is_dead(rig, resident)
    rig.start_worker()
    rig.wait_phase(resident, page, "done")
    [loan] = rig.rows(Loan)
    assert loan.status is LoanStatus.ACTIVE and not loan.confirmed_late
    assert rig.rows(Item, Item.id == loan.item_id)[0].status is ItemStatus.ON_LOAN
    wait_until(lambda: rig.rows(DoorSession)[0].state.value == "completed", "the door closed")
    assert rig.locker.compartment(1)["item_present"] is False


# amqtt hands the restarted worker the locker's retained state before its queued events: the
# tool is reported missing, then lent late and the alert resolved (test_reconciliation_rules).
# This holds Mosquitto's order, queued events first, in which no alert is raised at all.
@pytest.mark.mosquitto
def test_an_item_removed_after_its_pickup_was_released_becomes_a_loan_confirmed_late(
    rig: Rig,
) -> None:
    pickup_while_the_worker_is_dead(rig, rig.resident())
    # Long enough without news that the server gave the pickup up.
    rig.clock.advance(timedelta(minutes=2))
    lending_jobs.run_due(rig.database, now=rig.clock.now())
    [released] = rig.rows(DoorSession)
    assert released.release_reason is ReleaseReason.DOOR_NOT_OPENED
    assert rig.rows(Item, Item.id == released.item_id)[0].status is ItemStatus.AVAILABLE
    rig.start_worker()
    [loan] = wait_until(lambda: rig.rows(Loan), "the late loan")
    assert loan.resident_id == released.resident_id and loan.confirmed_late
    wait_until(
        lambda: rig.rows(StaffAlert, StaffAlert.kind == "lending.confirmed_late"),
        "the staff alert",
    )
    assert rig.rows(Item, Item.id == loan.item_id)[0].status is ItemStatus.ON_LOAN
    assert rig.rows(StaffAlert, StaffAlert.kind == "lending.item_missing") == []
    [door] = rig.rows(DoorSession)
    assert door.loan_id == loan.id
    # Signed in again, the resident finds the tool among their loans.
    assert f"/kiosk/tools/loans/{loan.id}/" in rig.resident().page("/kiosk/tools/mine")


# --- the locker restarts with a door open --------------------------------------------------------


def restart_the_locker(rig: Rig, *, while_off: Callable[[DeviceStore], None] | None = None) -> None:
    """The locker loses its power and comes back as a new process: the door someone shut
    meanwhile is shut, and nothing tells the server so but the locker's full state."""
    rig.locker.stop()
    if while_off is not None:
        store = DeviceStore(rig.locker.store.path)
        try:
            while_off(store)
        finally:
            store.close()
    rig.locker = LockerSim(
        rig.station.locker, rig.station.slug, rig.app.config["MQTT_URL"], rig.locker.store.path.parent,
        time_scale=0.1, clock=rig.clock.now, resend_interval=0.5,
    )  # fmt: skip
    rig.locker.start()


def test_a_door_shut_while_the_locker_was_off_ends_the_pickup_from_its_full_state(
    rig: Rig,
) -> None:
    # The drill left (its event made the loan), then the power went with the door open and
    # someone shut it. No door_closed will come: the birth's "closed, locked" ends the cycle,
    # or the compartment would refuse every return until someone cleared it by hand.
    resident = rig.resident()
    page = rig.open_for_pickup(resident)
    assert rig.locker.person_takes_item(1)
    wait_until(lambda: len(rig.rows(Loan)) == 1, "the loan made as the drill left")
    try:
        restart_the_locker(rig)
        wait_until(lambda: rig.rows(DoorSession)[0].state.value == "completed", "the cycle ended")
        [loan] = rig.rows(Loan)
        page = rig.give_back(resident, loan.id)
        rig.wait_phase(resident, page, "unlocked")  # not held "closing" for good
    finally:
        rig.locker.stop()


def test_a_drill_taken_while_the_locker_was_off_is_lent_on_the_locker_s_word_when_it_is_back(
    rig: Rig,
) -> None:
    # The door opened for the pickup, then the power went; the resident took the drill and
    # shut the door meanwhile. The locker's full state says the compartment is empty and at
    # rest: the same word as its "item removed" event, so the pickup's loan is made from it.
    resident = rig.resident()
    page = rig.open_for_pickup(resident)
    try:
        restart_the_locker(rig, while_off=lambda store: store.keep_contents(1, False))
        rig.wait_phase(resident, page, "done")
        [loan] = rig.rows(Loan)
        assert loan.status is LoanStatus.ACTIVE and loan.item_id == rig.station.drills[0]
        [door] = rig.rows(DoorSession)
        assert door.state.value == "completed" and door.loan_id == loan.id
        lent = rig.rows(LendingEvent, LendingEvent.action == LendingAction.LENT)[0]
        assert lent.device_id == rig.station.locker and lent.device_seq is not None
        assert rig.rows(Item, Item.id == loan.item_id)[0].status is ItemStatus.ON_LOAN
        # Only the locker's going offline is news to staff: nothing missing to clear up.
        assert [a.kind for a in rig.rows(StaffAlert)] == ["device.offline"]
    finally:
        rig.locker.stop()
