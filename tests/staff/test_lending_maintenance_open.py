"""Staff open a locker compartment for maintenance from an item's page, with a reason: the
audit log, the item's lending history and the command (requested_by naming staff and
reason) record it, the command goes over a real broker to a simulated locker, and staff read
a plain result."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.core.clock import SystemClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people import staff as staff_service
from booking.people.models.staff import StaffRole
from devices.bridge import Bridge
from devices.fleet import link_status
from devices.models.commands import CommandState, DeviceCommand
from devices.models.device import Device, DeviceKind
from devices.models.links import LinkState
from kiosk.extensions import database
from linli_sim.locker import LockerSim
from tests.conftest import StaffActions

PASSWORD = "maintenance-pass-2026"
WAIT_S = 10.0


def wait_until(condition: Any, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass(frozen=True)
class Station:
    site_slug: str
    device_id: str
    username: str
    item_id: int


@pytest.fixture
def station(app: Flask, mqtt_site: str) -> Station:
    """A centre of this test's own (its slug is unique on the shared broker) with a staff
    member, a registered locker (offline until its birth) and a drill in compartment 3."""
    device_id = f"{mqtt_site}-locker"
    now = datetime.now(UTC)
    # Commands expire by the wall clock the simulated locker also reads.
    app.extensions["linli.clock"] = SystemClock()
    with app.app_context(), database().write() as session:
        site = Site(slug=mqtt_site, name_zh="测试站", name_en="Test centre")
        session.add(site)
        session.flush()
        staff_service.create_staff(
            session, site_id=site.id, username=f"{mqtt_site}-desk", display_name="Desk",
            password=PASSWORD, role=StaffRole.STAFF, now=now,
        )  # fmt: skip
        drill = ToolType(site_id=site.id, code="drill", name_zh="电钻", name_en="Electric drill")
        session.add(drill)
        session.flush()
        item = Item(
            site_id=site.id, tool_type_id=drill.id, asset_tag=f"{mqtt_site}-DR-1",
            locker_device_id=device_id, compartment=3,
        )  # fmt: skip
        session.add(item)
        session.add(
            Device(
                site_id=site.id, device_id=device_id, kind=DeviceKind.LOCKER, name=device_id,
                mqtt_password_hash="$7$unused", capabilities={"compartments": 8}, online=False,
                created_at=now,
            )
        )  # fmt: skip
        session.flush()
        return Station(mqtt_site, device_id, f"{mqtt_site}-desk", item.id)


@pytest.fixture
def signed_in(client: FlaskClient, station: Station) -> StaffActions:
    staff = StaffActions(client)
    assert staff.sign_in(station.username, PASSWORD).status_code == 302
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff.csrf_token()})
    return staff


@pytest.fixture
def locker(app: Flask, mqtt_url: str, station: Station, tmp_path: Path) -> Iterator[LockerSim]:
    """The worker's bridge and a simulated locker on the test broker."""
    app.config["MQTT_URL"] = mqtt_url
    with app.app_context():
        db = database()
    bridge = Bridge(
        db, mqtt_url, station.site_slug, client_id=f"linli-server-{station.site_slug}"
    ).start()
    # An opened compartment nobody touches relocks after relock_after_s (scaled): keep it
    # 30 s of test time, or a loaded machine rendering the page sees it locked again.
    sim = LockerSim(station.device_id, station.site_slug, mqtt_url, tmp_path / "sim",
                    time_scale=0.01, relock_after_s=3000.0)  # fmt: skip
    try:
        assert bridge.connected.is_set(), "the bridge could not connect to the test broker"
        sim.start()
        wait_until(lambda: device_online(app, station.device_id), "the locker's birth")
        yield sim
    finally:
        sim.stop()
        bridge.stop()


def device_online(app: Flask, device_id: str) -> bool:
    with app.app_context(), database().read() as session:
        return bool(session.scalar(select(Device.online).where(Device.device_id == device_id)))


def open_for_maintenance(
    client: FlaskClient, staff: StaffActions, item_id: int, reason: str
) -> Any:
    return client.post(
        f"/staff/lending/items/{item_id}/maintenance-open",
        data={"reason": reason, "csrf_token": staff.csrf_token()},
    )


def the_command(app: Flask) -> DeviceCommand:
    with app.app_context(), database().read() as session:
        command = session.scalars(select(DeviceCommand)).one()
        session.expunge(command)
        return command


def test_a_maintenance_open_unlocks_the_compartment_and_is_recorded_everywhere(
    app: Flask, client: FlaskClient, signed_in: StaffActions, station: Station, locker: LockerSim
) -> None:
    response = open_for_maintenance(client, signed_in, station.item_id, "  replace the battery ")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Compartment 3 of {station.device_id} is open." in page
    assert locker.compartment(3)["lock"] == "unlocked"

    command = the_command(app)
    assert command.state is CommandState.SUCCEEDED
    assert (command.name, command.args) == ("open", {"compartment": 3})
    assert command.requested_by == f"maintenance:{station.username}:replace the battery"
    with app.app_context(), database().read() as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "locker.opened_for_maintenance")
        ).one()
        assert audit.actor == f"staff:{station.username}"
        assert audit.detail["reason"] == "replace the battery"
        assert audit.detail["command_id"] == command.id
        event = session.scalars(
            select(LendingEvent).where(LendingEvent.action == LendingAction.MAINTENANCE_OPEN)
        ).one()
        assert (event.item_id, event.device_command_id) == (station.item_id, command.id)
        assert event.actor == f"staff:{station.username}"
        assert event.detail["reason"] == "replace the battery"
    # The item's page shows the opening in its history.
    assert 'data-event="maintenance_open"' in page


def test_a_jammed_compartment_is_reported_plainly_and_the_request_stays_recorded(
    app: Flask, client: FlaskClient, signed_in: StaffActions, station: Station, locker: LockerSim
) -> None:
    locker.jam(3)
    response = open_for_maintenance(client, signed_in, station.item_id, "free the lock")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The locker did not open compartment 3 (jammed)." in page
    assert the_command(app).state is CommandState.REJECTED
    with app.app_context(), database().read() as session:
        # Asking is what is recorded: who wanted the door open and why, even if it stayed shut.
        assert session.scalar(
            select(func.count()).select_from(LendingEvent)
            .where(LendingEvent.action == LendingAction.MAINTENANCE_OPEN)
        ) == 1  # fmt: skip


def nothing_recorded(app: Flask) -> bool:
    with app.app_context(), database().read() as session:
        return (
            all(
                session.scalar(select(func.count()).select_from(model)) == 0
                for model in (DeviceCommand, LendingEvent)
            )
            and session.scalar(
                select(func.count()).select_from(AuditEntry)
                .where(AuditEntry.action == "locker.opened_for_maintenance")
            ) == 0
        )  # fmt: skip


def test_with_the_worker_stopped_nothing_is_recorded_or_sent_and_staff_are_told(
    app: Flask, client: FlaskClient, signed_in: StaffActions, station: Station, locker: LockerSim,
    mqtt_url: str,
) -> None:  # fmt: skip
    with app.app_context():
        db = database()
    # The worker stops: its bridge says so on the way out.
    Bridge(db, mqtt_url, station.site_slug, client_id=f"linli-server-{station.site_slug}-2"
           ).start().stop()  # fmt: skip
    response = open_for_maintenance(client, signed_in, station.item_id, "replace the battery")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The command could not be sent: the device link is not running." in page
    assert nothing_recorded(app)
    assert locker.executed_commands == []


def test_an_offline_locker_is_reported_and_nothing_is_recorded_or_sent(
    app: Flask, client: FlaskClient, signed_in: StaffActions, station: Station
) -> None:
    with app.app_context(), database().write() as session:  # the worker runs; the locker not
        link_status.record_link(session, site=station.site_slug, client_id="linli-server",
                                state=LinkState.CONNECTED, now=datetime.now(UTC))  # fmt: skip
    response = open_for_maintenance(client, signed_in, station.item_id, "clean it")
    assert response.status_code == 503
    assert "The locker is offline: it cannot open now." in response.get_data(as_text=True)
    with app.app_context(), database().read() as session:
        for model in (DeviceCommand, LendingEvent):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        assert session.scalar(
            select(func.count()).select_from(AuditEntry)
            .where(AuditEntry.action == "locker.opened_for_maintenance")
        ) == 0  # fmt: skip
