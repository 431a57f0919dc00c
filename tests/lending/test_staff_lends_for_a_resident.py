"""Staff lending a tool for a resident from the console: a locker tool goes the kiosk's way
(its compartment opens, and the loan exists only once the locker reports the tool gone, then
naming the staff member); a counter tool is handed over; refusals are the kiosk's words."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lending_centre import Station, report_locker, staff_of
from sqlalchemy import select, update
from staff_lending import doors, loans, notices, post, the_locker

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.lending import operations as lending
from booking.lending.models.door_sessions import DoorSessionState, ReleaseReason
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import LoanChannel
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tools import Item, ItemStatus
from devices.models.commands import DeviceCommand
from devices.models.compartments import Compartment, DoorState, LockState
from kiosk.extensions import database


def flashed(client: FlaskClient, path: str) -> str:
    return notices(client.get(path).get_data(as_text=True))


# --- a locker tool ------------------------------------------------------------------------------


@pytest.mark.usefixtures("lockers_up")
def test_a_locker_tool_opens_its_compartment_and_the_loan_waits_for_the_lockers_word(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    resident = app_station.residents[0]
    page = staff.get(f"/staff/residents/{resident}/lend").get_data(as_text=True)
    assert "打开柜格（可借 3 件）" in page and "交付 lend-C1" in page
    response = post(staff, f"/staff/residents/{resident}/lend/locker/{app_station.drill_type}")
    [door] = doors(station_app)
    assert response.headers["Location"].endswith(f"/staff/residents/{resident}/pickups/{door.id}")
    assert door.requested_by_staff_id == app_station.staff_id
    assert door.state is DoorSessionState.OPENING and door.resident_id == resident
    with station_app.app_context(), database().read() as session:
        command = session.get_one(DeviceCommand, door.command_id)
        assert command.requested_by == f"pickup:{door.id}"
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "lending.pickup_for_resident")
        ).one()
        assert entry.staff_id == app_station.staff_id
        assert entry.detail["resident_id"] == resident
        reserved = session.scalars(
            select(LendingEvent).where(LendingEvent.action == LendingAction.RESERVED)
        ).one()
        assert reserved.actor == f"staff:{app_station.slug}-staff"
    # No loan until the locker says the tool is gone: the page follows the locker meanwhile.
    assert loans(station_app) == []
    waiting = staff.get(f"/staff/residents/{resident}/pickups/{door.id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' in waiting and "正在打开第 1 号柜门…" in waiting
    the_locker(station_app, app_station, door.id, clock, "take")
    [loan] = loans(station_app)
    assert loan.channel is LoanChannel.LOCKER
    assert loan.lent_by_staff_id == app_station.staff_id and loan.resident_id == resident
    the_locker(station_app, app_station, door.id, clock, "close")
    done = staff.get(f"/staff/residents/{resident}/pickups/{door.id}").get_data(as_text=True)
    assert "智能柜报告工具已取出：借用已记录。" in done and 'http-equiv="refresh"' not in done
    record = staff.get(f"/staff/residents/{resident}").get_data(as_text=True)
    row = re.search(rf'<tr data-loan="{loan.id}">(.*?)</tr>', record, re.S)
    assert row and "由 工作人员 赵敏 借出" in row.group(1)


def test_without_the_worker_no_compartment_opens_and_the_kiosks_words_say_why(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    resident = app_station.residents[0]
    page = staff.get(f"/staff/residents/{resident}/lend").get_data(as_text=True)
    assert "智能柜现在未连接" in page and "打开柜格（" not in page
    response = post(staff, f"/staff/residents/{resident}/lend/locker/{app_station.drill_type}")
    assert response.headers["Location"].endswith(f"/staff/residents/{resident}/lend")
    assert flashed(staff, f"/staff/residents/{resident}/lend").startswith("未借出。自助机的提示：")
    assert doors(station_app) == [] and loans(station_app) == []


@pytest.mark.usefixtures("lockers_up")
def test_a_resident_whose_borrowing_is_suspended_is_refused_in_the_kiosks_words(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    resident = app_station.residents[0]
    with station_app.app_context(), database().write() as session:
        session.add(
            LendingSuspension(
                site_id=app_station.site_id, resident_id=resident,
                starts_at=clock.now() - timedelta(days=1), ends_at=clock.now() + timedelta(days=6),
            )
        )  # fmt: skip
    post(staff, f"/staff/residents/{resident}/lend/locker/{app_station.drill_type}")
    message = flashed(staff, f"/staff/residents/{resident}/lend")
    assert message == (
        "未借出。自助机的提示：因为之前有工具逾期归还，2026-11-30 09:30 之前您暂时不能借用。"
        "如需帮助请询问工作人员。"
    )
    assert doors(station_app) == [] and loans(station_app) == []


@pytest.mark.usefixtures("lockers_up")
def test_a_pickup_waiting_for_its_compartment_can_be_called_off_and_frees_the_tool(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    # Compartment 1 is still closing from its last cycle: the pickup waits for it.
    with station_app.app_context(), database().write() as session:
        session.execute(
            update(Compartment)
            .where(Compartment.device_id == app_station.locker, Compartment.n == 1)
            .values(door=DoorState.OPEN, lock=LockState.UNLOCKED)
        )
    resident = app_station.residents[0]
    post(staff, f"/staff/residents/{resident}/lend/locker/{app_station.drill_type}")
    [door] = doors(station_app)
    assert door.state is DoorSessionState.WAITING
    page = staff.get(f"/staff/residents/{resident}").get_data(as_text=True)
    assert f"/staff/residents/{resident}/pickups/{door.id}" in page
    response = post(staff, f"/staff/residents/{resident}/pickups/{door.id}/cancel")
    assert response.status_code == 303
    [after] = doors(station_app)
    assert after.state is DoorSessionState.RELEASED
    assert after.release_reason is ReleaseReason.CANCELLED
    with station_app.app_context(), database().read() as session:
        assert session.get_one(Item, door.item_id).status is ItemStatus.AVAILABLE
        assert session.scalar(
            select(AuditEntry.staff_id).where(
                AuditEntry.action == "lending.pickup_cancelled_for_resident"
            )
        ) == app_station.staff_id  # fmt: skip
    assert loans(station_app) == []


@pytest.mark.usefixtures("lockers_up")
def test_a_pickup_whose_compartment_is_opening_is_the_lockers_to_finish(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    resident = app_station.residents[0]
    post(staff, f"/staff/residents/{resident}/lend/locker/{app_station.drill_type}")
    [door] = doors(station_app)
    post(staff, f"/staff/residents/{resident}/pickups/{door.id}/cancel")
    assert doors(station_app)[0].state is DoorSessionState.OPENING
    assert "柜格已在打开" in flashed(staff, f"/staff/residents/{resident}/pickups/{door.id}")


def test_a_pickup_of_another_resident_is_not_found(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    with station_app.app_context():
        report_locker(database(), app_station, clock)
    first, second = app_station.residents[:2]
    post(staff, f"/staff/residents/{first}/lend/locker/{app_station.drill_type}")
    [door] = doors(station_app)
    assert staff.get(f"/staff/residents/{second}/pickups/{door.id}").status_code == 404
    response = post(staff, f"/staff/residents/{second}/pickups/{door.id}/cancel")
    assert response.status_code == 404
    assert doors(station_app)[0].state is DoorSessionState.OPENING


@pytest.mark.usefixtures("lockers_up")
def test_calling_off_a_pickup_for_no_resident_of_this_centre_is_not_found(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    """Not "the compartment is already opening": the console has no such resident."""
    post(staff, f"/staff/residents/{app_station.residents[0]}/lend/locker/{app_station.drill_type}")
    [door] = doors(station_app)
    response = post(staff, f"/staff/residents/{10**6}/pickups/{door.id}/cancel")
    assert response.status_code == 404


# --- a counter tool -----------------------------------------------------------------------------


def test_a_counter_tool_is_handed_over_and_the_loan_names_the_staff(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    resident = app_station.residents[1]
    response = post(staff, f"/staff/residents/{resident}/lend/counter/{app_station.cart}")
    assert response.headers["Location"].endswith(f"/staff/residents/{resident}#loans")
    [loan] = loans(station_app)
    assert loan.channel is LoanChannel.COUNTER and loan.resident_id == resident
    assert loan.lent_by_staff_id == app_station.staff_id
    page = staff.get(f"/staff/residents/{resident}").get_data(as_text=True)
    assert "lend-C1" in page.split('id="loans"')[1]
    row = re.search(rf'<tr data-loan="{loan.id}">(.*?)</tr>', page, re.S)
    assert row and "由 工作人员 赵敏 借出" in row.group(1)


def test_a_locker_item_is_not_handed_over_past_its_locker(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    resident = app_station.residents[0]
    post(staff, f"/staff/residents/{resident}/lend/counter/{app_station.drills[0]}")
    assert "请改为为居民打开它的柜格" in flashed(staff, f"/staff/residents/{resident}/lend")
    assert loans(station_app) == []


def test_the_loan_limit_is_the_kiosks_and_says_so_in_its_words(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    resident = app_station.residents[0]
    with station_app.app_context(), database().write() as session:
        for item in (*app_station.drills,):
            lending.lend_at_counter(session, staff=staff_of(session, app_station), item_id=item,
                                    resident_id=resident, now=clock.now())  # fmt: skip
    post(staff, f"/staff/residents/{resident}/lend/counter/{app_station.cart}")
    message = flashed(staff, f"/staff/residents/{resident}/lend")
    assert message == "未借出。自助机的提示：您已借了 3 件工具。请先归还一件再借。"
    assert len(loans(station_app)) == 3


def test_lending_without_the_forms_token_changes_nothing(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    resident = app_station.residents[0]
    staff.post(f"/staff/residents/{resident}/lend/counter/{app_station.cart}", data={})
    assert loans(station_app) == []
