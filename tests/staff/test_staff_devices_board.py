"""The console's device board, and opening a compartment for maintenance with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from devices.fleet import link_status, provisioning, registry
from devices.models.commands import DeviceCommand
from devices.models.compartments import Compartment, DoorState, LockState
from devices.models.faults import FaultKind
from devices.models.links import LinkState
from kiosk.extensions import database
from tests.conftest import StaffActions

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def english(client: FlaskClient, staff_auth: StaffActions, demo: None) -> StaffActions:
    staff_auth.sign_in()
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


@pytest.fixture
def lockers(app: Flask, clock: FrozenClock, demo: None) -> None:
    """locker-a online with two compartments (one forced open), locker-b registered, never seen."""
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        locker_a, _ = provisioning.register_device(
            session, site.id, "locker-a", "locker", "Locker A", clock.now()
        )
        provisioning.register_device(
            session, site.id, "locker-b", "locker", "Locker B", clock.now()
        )
        locker_a.online = True
        locker_a.online_changed_at = clock.now() - timedelta(hours=2)
        locker_a.last_seen_at = clock.now() - timedelta(seconds=20)
        locker_a.firmware = "linli-sim 0.1.0"
        locker_a.capabilities = {"compartments": 2}
        for n, door, present in ((1, DoorState.CLOSED, True), (2, DoorState.OPEN, False)):
            session.add(
                Compartment(
                    device_id="locker-a",
                    n=n,
                    lock=LockState.LOCKED,
                    door=door,
                    item_present=present,
                    updated_at=clock.now(),
                )
            )
        session.flush()
        registry.open_fault(session, "locker-a", 2, FaultKind.FORCED_OPEN, clock.now())


@pytest.fixture
def live_link(app: Flask, clock: FrozenClock) -> None:
    """The worker's bridge has said it runs, connected (no bridge runs: nothing is sent)."""
    with app.app_context(), database().write() as session:
        link_status.record_link(session, site="xinhua", client_id="linli-server-xinhua",
                                state=LinkState.CONNECTED, now=clock.now())  # fmt: skip


def section(page: str, device_id: str) -> str:
    start = page.index(f'id="device-{device_id}"')
    end = page.find("</section>", start)
    return page[start:end]


@pytest.mark.usefixtures("lockers")
def test_the_board_shows_each_device_online_or_offline(
    client: FlaskClient, english: StaffActions
) -> None:
    page = client.get("/staff/devices").get_data(as_text=True)
    assert 'data-online="yes"' in section(page, "locker-a")
    assert "Online" in section(page, "locker-a")
    assert "linli-sim 0.1.0" in section(page, "locker-a")
    assert 'data-online="no"' in section(page, "locker-b")
    assert "Offline" in section(page, "locker-b")
    assert "Never" in section(page, "locker-b")  # last seen


@pytest.mark.usefixtures("lockers")
def test_the_board_shows_compartments_faults_and_the_items_kept_there(
    client: FlaskClient, english: StaffActions
) -> None:
    board = section(client.get("/staff/devices").get_data(as_text=True), "locker-a")
    assert "Door forced open" in board
    assert "XINHUA-" in board  # the demo items assigned to locker-a's compartments
    row_2 = board[board.index('id="device-locker-a-2"') :]
    assert "Door open" in row_2.split("</tr>")[0]
    assert "Empty" in row_2.split("</tr>")[0]


def test_a_centre_without_devices_says_so(client: FlaskClient, english: StaffActions) -> None:
    page = client.get("/staff/devices").get_data(as_text=True)
    assert "No device is registered at this centre." in page


def commands_and_audits(app: Flask) -> tuple[int, int]:
    with app.app_context(), database().read() as session:
        return (
            session.scalar(select(func.count()).select_from(DeviceCommand)) or 0,
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "locker.opened_for_maintenance")
            )
            or 0,
        )


@pytest.mark.usefixtures("lockers")
def test_a_maintenance_open_without_a_reason_is_refused_and_sends_nothing(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    response = client.post(
        "/staff/devices/locker-a/compartments/1/open",
        data={"reason": "  ", "csrf_token": english.csrf_token()},
    )
    assert response.status_code == 400
    assert "Say why the compartment must open." in response.get_data(as_text=True)
    assert commands_and_audits(app) == (0, 0)


@pytest.mark.usefixtures("lockers")
def test_a_maintenance_open_without_a_device_link_sends_nothing(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    response = client.post(
        "/staff/devices/locker-a/compartments/1/open",
        data={"reason": "replace the drill battery", "csrf_token": english.csrf_token()},
        follow_redirects=True,
    )
    assert "the device link is not running" in response.get_data(as_text=True)
    assert commands_and_audits(app) == (0, 0)


@pytest.mark.usefixtures("lockers", "live_link")
def test_a_maintenance_open_of_an_offline_locker_is_refused(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    response = client.post(
        "/staff/devices/locker-b/compartments/1/open",
        data={"reason": "check the lock", "csrf_token": english.csrf_token()},
        follow_redirects=True,
    )
    assert "The locker is offline" in response.get_data(as_text=True)
    assert commands_and_audits(app) == (0, 0)


@pytest.mark.usefixtures("lockers", "live_link")
def test_a_maintenance_open_of_another_sites_locker_is_not_found(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    with app.app_context(), database().write() as session:
        other = Site(slug="other", name_zh="别处", name_en="Elsewhere")
        session.add(other)
        session.flush()
        device, _ = provisioning.register_device(
            session, other.id, "far-locker", "locker", "", clock.now()
        )
        device.online = True
    response = client.post(
        "/staff/devices/far-locker/compartments/1/open",
        data={"reason": "curious", "csrf_token": english.csrf_token()},
    )
    assert response.status_code == 404
    assert commands_and_audits(app) == (0, 0)


def test_the_board_is_for_signed_in_staff_only(client: FlaskClient) -> None:
    assert client.get("/staff/devices").status_code == 302
