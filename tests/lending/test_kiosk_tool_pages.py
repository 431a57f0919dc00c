"""The kiosk's tool pages through Flask's test client (no locker: see test_locker_flows)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kiosk_helpers import Resident
from lending_centre import Station, staff_of
from sqlalchemy import delete, select

from booking.alerts.models.alerts import StaffAlert
from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from booking.lending import jobs as lending_jobs
from booking.lending import operations as lending
from booking.lending.models.door_sessions import DoorSession
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.tools import Item, ItemStatus
from devices.fleet import link_status, provisioning
from devices.models.compartments import Compartment, DoorState, LockState
from devices.models.device import Device
from devices.models.links import LinkState
from kiosk.extensions import database as app_database


def lend_cart(app: Flask, station: Station, clock: FrozenClock, resident: int = 0) -> int:
    with app.app_context(), app_database().write() as session:
        return lending.lend_at_counter(
            session, staff=staff_of(session, station), item_id=station.cart,
            resident_id=station.residents[resident], now=clock.now(),
        ).id  # fmt: skip


def test_the_borrow_tile_leads_to_the_tool_catalogue(station_app: Flask) -> None:
    response = station_app.test_client().get("/kiosk/services/tools")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/kiosk/tools")


@pytest.mark.usefixtures("lockers_up")
def test_the_catalogue_names_each_tool_in_chinese_and_english_with_what_is_free(
    station_app: Flask,
) -> None:
    page = Resident(station_app, "").page("/kiosk/tools")
    assert "电钻" in page and "Electric drill" in page
    assert "折叠梯" in page and "Folding ladder" in page
    assert "3 free in the lockers" in page or "柜中可借 3 件" in page
    assert 'id="tool-' in page


def test_a_counter_only_tool_says_to_ask_the_staff(
    station_app: Flask, app_station: Station
) -> None:
    page = Resident(station_app, "").page("/kiosk/tools")
    card = page.split(f'id="tool-{app_station.cart_type}"')[1].split("</li>")[0]
    assert "tool-count-counter" in card
    assert "button-borrow" not in card


def test_borrowing_asks_to_sign_in_first(station_app: Flask, app_station: Station) -> None:
    visitor = Resident(station_app, "")
    response = visitor.post(f"/kiosk/tools/{app_station.drill_type}/borrow")
    assert response.status_code == 302
    assert "/kiosk/sign-in" in response.headers["Location"]


def test_without_the_worker_the_catalogue_offers_no_locker_and_sends_to_the_counter(
    station_app: Flask, app_station: Station
) -> None:
    page = Resident(station_app, "").page("/kiosk/tools")
    assert 'id="lockers-down"' in page
    assert "button-borrow" not in page
    card = page.split(f'id="tool-{app_station.drill_type}"')[1].split("</li>")[0]
    assert "tool-count-counter" in card  # ask the staff at the service desk


@pytest.mark.usefixtures("lockers_up")
def test_a_locker_whose_compartment_state_is_unknown_is_not_offered(
    station_app: Flask, app_station: Station
) -> None:
    with station_app.app_context(), app_database().write() as session:
        session.execute(
            delete(Compartment).where(Compartment.n.in_([1, 2]))  # drills 1 and 2: unknown
        )
    page = Resident(station_app, "").page("/kiosk/tools")
    card = page.split(f'id="tool-{app_station.drill_type}"')[1].split("</li>")[0]
    assert "1 free in the lockers" in card or "柜中可借 1 件" in card
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    resident.post(f"/kiosk/tools/{app_station.drill_type}/borrow")
    with station_app.app_context(), app_database().read() as session:
        door = session.scalars(select(DoorSession)).one()
        assert (door.item_id, door.compartment) == (app_station.drills[2], 3)


def test_a_locker_that_never_connected_is_not_offered_even_with_the_worker_up(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    with station_app.app_context(), app_database().write() as session:
        link_status.record_link(session, site=app_station.slug, client_id="linli-server",
                                state=LinkState.CONNECTED, now=clock.now())  # fmt: skip
    page = Resident(station_app, "").page("/kiosk/tools")
    assert "button-borrow" not in page
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    response = resident.post(f"/kiosk/tools/{app_station.drill_type}/borrow")
    assert response.headers["Location"].endswith("/kiosk/tools")
    with station_app.app_context(), app_database().read() as session:
        assert session.scalar(select(DoorSession.id)) is None


def test_without_the_worker_borrowing_says_the_lockers_are_not_connected_and_reserves_nothing(
    station_app: Flask, app_station: Station
) -> None:
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    response = resident.post(f"/kiosk/tools/{app_station.drill_type}/borrow")
    page = resident.page(response.headers["Location"])
    assert "not connected" in page or "未连接" in page
    with station_app.app_context(), app_database().read() as session:
        assert session.scalar(select(DoorSession.id)) is None


@pytest.mark.usefixtures("lockers_up")
def test_an_offline_locker_is_not_offered_and_nothing_is_reserved(
    station_app: Flask, app_station: Station
) -> None:
    with station_app.app_context(), app_database().write() as session:
        device = session.scalars(select(Device)).one()
        device.online = False
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    assert "button-borrow" not in resident.page("/kiosk/tools")
    response = resident.post(f"/kiosk/tools/{app_station.drill_type}/borrow")
    assert response.headers["Location"].endswith("/kiosk/tools")
    page = resident.page(response.headers["Location"])
    assert 'role="alert"' in page or "notice-error" in page
    with station_app.app_context(), app_database().read() as session:
        assert session.scalar(select(DoorSession.id)) is None
        assert session.scalar(select(Loan.id)) is None
        assert all(i.status is ItemStatus.AVAILABLE for i in session.scalars(select(Item)))


@pytest.mark.usefixtures("lockers_up")
def test_a_locker_return_is_offered_only_while_its_locker_can_take_it(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    with station_app.app_context(), app_database().write() as session:
        lending.lend_at_counter(
            session, staff=staff_of(session, app_station), item_id=app_station.drills[0],
            resident_id=app_station.residents[0], now=clock.now(),
        )  # fmt: skip
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    assert "button-return" in resident.page("/kiosk/tools/mine")
    clock.advance(timedelta(minutes=1))  # the worker stops beating
    page = resident.page("/kiosk/tools/mine")
    assert "button-return" not in page and 'id="lockers-down"' in page
    assert "service desk" in page or "服务台" in page
    [loan_id] = [int(x.split('"')[0]) for x in page.split('id="loan-')[1:]]
    response = resident.post(f"/kiosk/tools/loans/{loan_id}/return")
    assert response.headers["Location"].endswith("/kiosk/tools/mine")
    with station_app.app_context(), app_database().read() as session:
        assert session.scalar(select(DoorSession.id)) is None


@pytest.mark.usefixtures("lockers_up")
def test_a_refusal_is_shown_in_plain_words(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_cart(station_app, app_station, clock)
    lending_jobs_now = clock.now() + timedelta(days=3)
    with station_app.app_context():
        lending_jobs.run_due(app_database(), now=lending_jobs_now)
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    response = resident.post(f"/kiosk/tools/{app_station.drill_type}/borrow")
    page = resident.page(response.headers["Location"])
    assert "overdue" in page or "逾期" in page
    assert loan_id


def test_my_tools_lists_each_loan_with_its_due_date(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    lend_cart(station_app, app_station, clock)
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    page = resident.page("/kiosk/tools/mine")
    assert "拖车" in page
    assert "11月27日周五 09:30" in page  # three days, in Shanghai time
    assert "service desk" in page or "服务台" in page  # a counter item goes back there


def test_an_overdue_tool_is_mentioned_once_at_the_next_sign_in(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    lend_cart(station_app, app_station, clock)
    with station_app.app_context():
        lending_jobs.run_due(app_database(), now=clock.now() + timedelta(days=3))
    resident = Resident(station_app, app_station.phones[0])
    first = resident.client.get(resident.sign_in().headers["Location"]).get_data(as_text=True)
    assert "2026-11-27" in first and ("Please return" in first or "请归还" in first)
    resident.post("/kiosk/sign-out")
    again = resident.client.get(resident.sign_in().headers["Location"]).get_data(as_text=True)
    assert "Please return" not in again and "请归还" not in again
    assert "loan-overdue" in resident.page("/kiosk/tools/mine")


def test_a_damaged_answer_puts_the_tool_in_maintenance_and_alerts_staff(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_cart(station_app, app_station, clock)
    with station_app.app_context(), app_database().write() as session:
        loan = session.get_one(Loan, loan_id)
        loan.status = LoanStatus.RETURNED
        loan.returned_at = clock.now()
        session.get_one(Item, loan.item_id).status = ItemStatus.AVAILABLE
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    assert "parts_missing" in resident.page(f"/kiosk/tools/loans/{loan_id}/condition")
    response = resident.post(f"/kiosk/tools/loans/{loan_id}/condition", condition="damaged")
    assert response.headers["Location"].endswith("/kiosk/tools/mine")
    with station_app.app_context(), app_database().read() as session:
        assert session.get_one(Item, app_station.cart).status is ItemStatus.MAINTENANCE
        assert session.scalars(select(StaffAlert.kind)).all() == ["lending.damaged"]


def test_an_unknown_condition_answer_changes_nothing(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_cart(station_app, app_station, clock)
    with station_app.app_context(), app_database().write() as session:
        loan = session.get_one(Loan, loan_id)
        loan.status = LoanStatus.RETURNED
        loan.returned_at = clock.now()
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    resident.post(f"/kiosk/tools/loans/{loan_id}/condition", condition="so-so")
    with station_app.app_context(), app_database().read() as session:
        assert session.get_one(Loan, loan_id).return_condition is None


def test_another_residents_loan_cannot_be_returned_or_viewed(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_cart(station_app, app_station, clock, resident=0)
    other = Resident(station_app, app_station.phones[1])
    other.sign_in()
    assert other.client.get(f"/kiosk/tools/loans/{loan_id}/slip").status_code == 404
    assert (
        other.post(f"/kiosk/tools/loans/{loan_id}/condition", condition="fine").status_code == 404
    )


def test_the_status_of_a_pickup_needs_a_signed_in_resident(station_app: Flask) -> None:
    response = station_app.test_client().get("/kiosk/tools/pickup/1/status")
    assert response.status_code == 401
    assert response.get_json()["signed_in"] is False


def test_the_demo_catalogue_offers_drills_from_the_lockers_with_a_safety_note(
    app: Flask, client: FlaskClient, clock: FrozenClock, demo: None
) -> None:
    # The demo's worker runs and its lockers have reported the items they hold.
    with app.app_context(), app_database().write() as session:
        site = session.scalars(select(Site)).one()
        link_status.record_link(session, site=site.slug, client_id="linli-server",
                                state=LinkState.CONNECTED, now=clock.now())  # fmt: skip
        in_lockers = list(session.scalars(select(Item).where(Item.locker_device_id.is_not(None))))
        for device_id in sorted({str(item.locker_device_id) for item in in_lockers}):
            device, _ = provisioning.register_device(session, site.id, device_id, "locker", "",
                                                     clock.now())  # fmt: skip
            device.online, device.session_counter = True, 1
        session.flush()
        for item in in_lockers:
            session.add(Compartment(device_id=item.locker_device_id, n=item.compartment,
                                    lock=LockState.LOCKED, door=DoorState.CLOSED,
                                    item_present=True, updated_at=clock.now()))  # fmt: skip
    page = client.get("/kiosk/tools").get_data(as_text=True)
    drill = page.split("电钻")[1].split("</li>")[0]
    assert "button-borrow" in drill
    assert "tool-safety" in drill


def test_the_tool_pages_have_no_inline_script(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_cart(station_app, app_station, clock)
    resident = Resident(station_app, app_station.phones[0])
    resident.sign_in()
    for path in ("/kiosk/tools", "/kiosk/tools/mine", f"/kiosk/tools/loans/{loan_id}/slip"):
        page = resident.page(path)
        assert " onclick=" not in page and "<script>" not in page and " style=" not in page
