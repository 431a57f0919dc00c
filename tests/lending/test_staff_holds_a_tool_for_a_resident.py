"""Staff holding a locker tool for a resident who rang the desk ("keep a drill for me, I'll
come this afternoon"): nothing opens, the item is kept from others for the policy's hold, the
resident's kiosk shows it first with one button that opens its compartment the kiosk's way
(the loan exists only once the locker reports the tool gone, and names the staff member), and
a hold that runs out or is cancelled frees the item and leaves the kiosk."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from kiosk_helpers import Resident
from lending_centre import Station, staff_of
from sqlalchemy import select, update
from staff_lending import doors, loans, notices, post, the_locker
from werkzeug.test import TestResponse

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.lending import jobs as lending_jobs
from booking.lending import operations as lending
from booking.lending.models.door_sessions import DoorSessionState, ReleaseReason
from booking.lending.models.loans import LoanChannel
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tools import Item, ItemStatus
from devices.fleet import link_status
from devices.models.commands import DeviceCommand
from devices.models.device import Device
from devices.models.links import LinkState
from kiosk.extensions import database
from kiosk.touch.lending import door as kiosk_door

HELD_UNTIL = "11:30"  # the station's clock starts at 09:30 in Shanghai; the hold is 2 hours


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The open commands the kiosk handed to its sender; the locker's answer is played by
    each test (no broker here, and no ten-second wait for a reply that never comes)."""
    commands: list[str] = []
    monkeypatch.setattr(
        kiosk_door,
        "send_in_background",
        lambda db, link, command_id, clock: commands.append(command_id),
    )
    return commands


def hold(staff: FlaskClient, station: Station, resident: int) -> TestResponse:
    return post(staff, f"/staff/residents/{resident}/lend/hold/{station.drill_type}")


def commands(app: Flask) -> list[DeviceCommand]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(DeviceCommand)))
        session.expunge_all()
        return found


def item_status(app: Flask, item_id: int) -> ItemStatus:
    with app.app_context(), database().read() as session:
        return session.get_one(Item, item_id).status


def later(app: Flask, station: Station, clock: FrozenClock, by: timedelta) -> None:
    """Time passes with the worker and the locker still connected (their link keeps beating)."""
    clock.advance(by)
    with app.app_context(), database().write() as session:
        link_status.record_link(session, site=station.slug, client_id=f"linli-server-{station.slug}",
                                state=LinkState.CONNECTED, now=clock.now())  # fmt: skip
        session.execute(
            update(Device)
            .where(Device.device_id == station.locker)
            .values(last_seen_at=clock.now())
        )


def kiosk_resident(app: Flask, station: Station, n: int = 0) -> Resident:
    resident = Resident(app, station.phones[n])
    resident.sign_in()
    return resident


# --- staff hold -------------------------------------------------------------------------------


@pytest.mark.usefixtures("lockers_up")
def test_a_hold_opens_nothing_keeps_the_item_from_others_and_shows_on_the_residents_page(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    resident = app_station.residents[0]
    page = staff.get(f"/staff/residents/{resident}/lend").get_data(as_text=True)
    assert "为居民保留，到自助机开柜取" in page
    response = hold(staff, app_station, resident)
    assert response.headers["Location"].endswith(f"/staff/residents/{resident}#act-for")
    [door] = doors(station_app)
    assert door.state is DoorSessionState.RESERVED and door.command_id is None
    assert door.resident_id == resident and door.requested_by_staff_id == app_station.staff_id
    assert door.expires_at == clock.now() + timedelta(hours=2)
    assert commands(station_app) == [] and loans(station_app) == []
    assert item_status(station_app, door.item_id) is ItemStatus.RESERVED
    with station_app.app_context(), database().read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "lending.hold_for_resident")
        ).one()
        assert entry.staff_id == app_station.staff_id
        assert entry.detail["resident_id"] == resident
        assert entry.detail["staff_id"] == app_station.staff_id
    record = staff.get(f"/staff/residents/{resident}").get_data(as_text=True)
    assert f"电钻 lend-D1 已为 王秀英 保留到 {HELD_UNTIL}" in notices(record)
    line = re.search(rf'<li data-hold="{door.id}">(.*?)</li>', record, re.S)
    assert line and f"保留到 {HELD_UNTIL}" in line.group(1)
    assert "由 工作人员 赵敏 保留" in line.group(1) and "取消保留" in line.group(1)
    # Not a pickup under way: nothing is at the locker yet.
    assert f'/pickups/{door.id}"' not in record
    # Others are offered only the two other drills, at the kiosk and at the console alike.
    kiosk = Resident(station_app, "").page("/kiosk/tools")
    card = kiosk.split(f'id="tool-{app_station.drill_type}"')[1].split("</li>")[0]
    assert "柜中可借 2 件" in card
    other = app_station.residents[1]
    assert "打开柜格（可借 2 件）" in staff.get(f"/staff/residents/{other}/lend").get_data(
        as_text=True
    )


@pytest.mark.usefixtures("lockers_up")
def test_the_resident_opens_the_held_tool_at_the_kiosk_and_the_loan_waits_for_the_locker(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock,
    sent: list[str],
) -> None:  # fmt: skip
    hold(staff, app_station, app_station.residents[0])
    [door] = doors(station_app)
    resident = kiosk_resident(station_app, app_station)
    for path in ("/kiosk/tools", "/kiosk/tools/mine"):
        page = resident.page(path)
        card = page.split(f'id="hold-{door.id}"')[1].split("</li>")[0]
        assert f"已为您保留：电钻，保留到 {HELD_UNTIL}" in card
        assert "开柜取工具" in card
    # Someone else signed in sees no hold.
    assert 'id="tool-holds"' not in kiosk_resident(station_app, app_station, 1).page("/kiosk/tools")
    response = resident.post(f"/kiosk/tools/holds/{door.id}/open")
    assert response.headers["Location"].endswith(f"/kiosk/tools/pickup/{door.id}")
    [opening] = doors(station_app)
    assert opening.state is DoorSessionState.OPENING and sent == [opening.command_id]
    [command] = commands(station_app)
    assert command.requested_by == f"pickup:{door.id}" and command.args == {"compartment": 1}
    assert loans(station_app) == []
    waiting = resident.page(f"/kiosk/tools/pickup/{door.id}")
    assert "正在打开第 1 号柜门…" in waiting
    # Which locker, by the name staff gave it: a centre may have two side by side.
    assert "请到Locker A前，找到第 1 号柜门。" in waiting
    assert 'id="tool-holds"' not in resident.page("/kiosk/tools")
    the_locker(station_app, app_station, door.id, clock, "take")
    [loan] = loans(station_app)
    assert loan.channel is LoanChannel.LOCKER and loan.resident_id == app_station.residents[0]
    assert loan.lent_by_staff_id == app_station.staff_id
    the_locker(station_app, app_station, door.id, clock, "close")
    assert doors(station_app)[0].state is DoorSessionState.COMPLETED
    record = staff.get(f"/staff/residents/{app_station.residents[0]}").get_data(as_text=True)
    row = re.search(rf'<tr data-loan="{loan.id}">(.*?)</tr>', record, re.S)
    assert row and "由 工作人员 赵敏 借出" in row.group(1)


@pytest.mark.usefixtures("lockers_up")
def test_a_hold_that_runs_out_frees_the_item_and_leaves_the_kiosk(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock,
    sent: list[str],
) -> None:  # fmt: skip
    hold(staff, app_station, app_station.residents[0])
    [door] = doors(station_app)
    later(station_app, app_station, clock, timedelta(hours=1, minutes=59))
    resident = kiosk_resident(station_app, app_station)
    assert f"保留到 {HELD_UNTIL}" in resident.page("/kiosk/tools")
    later(station_app, app_station, clock, timedelta(minutes=1))
    # At its end the kiosk stops showing it, even before the job has released it.
    assert 'id="tool-holds"' not in resident.page("/kiosk/tools")
    assert 'id="tool-holds"' not in resident.page("/kiosk/tools/mine")
    assert "data-hold=" not in staff.get(f"/staff/residents/{app_station.residents[0]}").get_data(
        as_text=True
    )
    with station_app.app_context():
        assert lending_jobs.run_due(database(), now=clock.now()) >= 1
    [after] = doors(station_app)
    assert after.state is DoorSessionState.RELEASED
    assert after.release_reason is ReleaseReason.HOLD_EXPIRED
    assert item_status(station_app, door.item_id) is ItemStatus.AVAILABLE
    # An old button pressed now opens nothing and says why.
    response = resident.post(f"/kiosk/tools/holds/{door.id}/open")
    assert response.headers["Location"].endswith(f"/kiosk/tools/pickup/{door.id}")
    assert "已为您保留 2 小时" in resident.page(f"/kiosk/tools/pickup/{door.id}")
    assert commands(station_app) == [] and sent == [] and loans(station_app) == []


@pytest.mark.usefixtures("lockers_up")
def test_an_expired_hold_pressed_before_the_job_ran_is_released_not_opened(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock,
    sent: list[str],
) -> None:  # fmt: skip
    hold(staff, app_station, app_station.residents[0])
    [door] = doors(station_app)
    later(station_app, app_station, clock, timedelta(hours=2, seconds=1))
    resident = kiosk_resident(station_app, app_station)
    resident.post(f"/kiosk/tools/holds/{door.id}/open")
    [after] = doors(station_app)
    assert after.release_reason is ReleaseReason.HOLD_EXPIRED and commands(station_app) == []
    assert item_status(station_app, door.item_id) is ItemStatus.AVAILABLE


@pytest.mark.usefixtures("lockers_up")
def test_staff_cancel_a_hold_from_the_residents_page_and_the_item_is_free_again(
    station_app: Flask, app_station: Station, staff: FlaskClient, sent: list[str]
) -> None:
    resident_id = app_station.residents[0]
    hold(staff, app_station, resident_id)
    [door] = doors(station_app)
    response = post(staff, f"/staff/residents/{resident_id}/pickups/{door.id}/cancel")
    assert response.headers["Location"].endswith(f"/staff/residents/{resident_id}#loans")
    record = staff.get(f"/staff/residents/{resident_id}").get_data(as_text=True)
    assert "已取消保留，其他人又可以借用这件工具了。" in notices(record)
    assert "data-hold=" not in record
    [after] = doors(station_app)
    assert after.state is DoorSessionState.RELEASED
    assert after.release_reason is ReleaseReason.CANCELLED
    assert item_status(station_app, door.item_id) is ItemStatus.AVAILABLE
    with station_app.app_context(), database().read() as session:
        assert session.scalar(
            select(AuditEntry.staff_id).where(
                AuditEntry.action == "lending.pickup_cancelled_for_resident"
            )
        ) == app_station.staff_id  # fmt: skip
    resident = kiosk_resident(station_app, app_station)
    assert 'id="tool-holds"' not in resident.page("/kiosk/tools")
    resident.post(f"/kiosk/tools/holds/{door.id}/open")
    assert "这次取用已取消" in resident.page(f"/kiosk/tools/pickup/{door.id}")
    assert commands(station_app) == [] and sent == []


# --- the kiosk's rules --------------------------------------------------------------------------


@pytest.mark.usefixtures("lockers_up")
def test_a_suspended_resident_is_refused_a_hold_in_the_kiosks_words(
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
    response = hold(staff, app_station, resident)
    assert response.headers["Location"].endswith(f"/staff/residents/{resident}/lend")
    assert notices(staff.get(f"/staff/residents/{resident}/lend").get_data(as_text=True)) == (
        "未保留。自助机的提示：因为之前有工具逾期归还，2026-11-30 09:30 之前您暂时不能借用。"
        "如需帮助请询问工作人员。"
    )
    assert doors(station_app) == [] and loans(station_app) == []


@pytest.mark.usefixtures("lockers_up")
def test_a_held_tool_counts_towards_the_loan_limit_while_held(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    resident = app_station.residents[0]
    hold(staff, app_station, resident)
    with station_app.app_context(), database().write() as session:
        lending.lend_at_counter(session, staff=staff_of(session, app_station),
                                item_id=app_station.cart, resident_id=resident,
                                now=clock.now())  # fmt: skip
    hold(staff, app_station, resident)
    assert len(doors(station_app)) == 2
    hold(staff, app_station, resident)
    assert notices(staff.get(f"/staff/residents/{resident}/lend").get_data(as_text=True)) == (
        "未保留。自助机的提示：您已借了 3 件工具。请先归还一件再借。"
    )
    assert len(doors(station_app)) == 2
    # The kiosk says the same to the resident.
    kiosk = kiosk_resident(station_app, app_station)
    kiosk.post(f"/kiosk/tools/{app_station.ladder_type}/borrow")
    assert "您已借了 3 件工具" in kiosk.page("/kiosk/tools")


@pytest.mark.usefixtures("lockers_up")
def test_when_no_drill_is_free_the_hold_is_refused_in_the_kiosks_words(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    for resident in app_station.residents:
        hold(staff, app_station, resident)
    hold(staff, app_station, app_station.residents[0])
    message = notices(
        staff.get(f"/staff/residents/{app_station.residents[0]}/lend").get_data(as_text=True)
    )
    assert message.startswith("未保留。自助机的提示：抱歉，柜中暂时没有这种工具可借")
    assert len(doors(station_app)) == 3


def test_without_the_lockers_nothing_is_held(
    station_app: Flask, app_station: Station, staff: FlaskClient
) -> None:
    resident = app_station.residents[0]
    hold(staff, app_station, resident)
    assert notices(
        staff.get(f"/staff/residents/{resident}/lend").get_data(as_text=True)
    ).startswith("未保留。自助机的提示：")
    assert doors(station_app) == []


@pytest.mark.usefixtures("lockers_up")
def test_a_locker_gone_offline_keeps_the_hold_and_opens_nothing(
    station_app: Flask, app_station: Station, staff: FlaskClient, sent: list[str]
) -> None:
    hold(staff, app_station, app_station.residents[0])
    [door] = doors(station_app)
    with station_app.app_context(), database().write() as session:
        session.execute(
            update(Device).where(Device.device_id == app_station.locker).values(online=False)
        )
    resident = kiosk_resident(station_app, app_station)
    response = resident.post(f"/kiosk/tools/holds/{door.id}/open")
    assert response.headers["Location"].endswith("/kiosk/tools")
    assert "工具柜暂时未连接。请到服务台找工作人员。" in resident.page("/kiosk/tools")
    assert doors(station_app)[0].state is DoorSessionState.RESERVED
    assert commands(station_app) == [] and sent == []


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("lockers_up")
def test_bad_requests_are_refused_and_change_nothing(
    station_app: Flask, app_station: Station, staff: FlaskClient, sent: list[str]
) -> None:
    first, second = app_station.residents[:2]
    # A tool type that is not there, a counter tool's type, no form token.
    assert hold(staff, app_station, first).status_code == 303
    [door] = doors(station_app)
    assert post(staff, f"/staff/residents/{first}/lend/hold/999999").status_code == 404
    assert (
        post(staff, f"/staff/residents/999999/lend/hold/{app_station.drill_type}").status_code
        == 404
    )
    assert post(staff, f"/staff/residents/{first}/lend/hold/abc").status_code == 404
    staff.post(f"/staff/residents/{first}/lend/hold/{app_station.drill_type}", data={})
    post(staff, f"/staff/residents/{first}/lend/hold/{app_station.cart_type}")
    assert len(doors(station_app)) == 1
    # Another resident's hold is not theirs to open or cancel.
    other = kiosk_resident(station_app, app_station, 1)
    assert other.post(f"/kiosk/tools/holds/{door.id}/open").status_code == 404
    assert other.post("/kiosk/tools/holds/999999/open").status_code == 404
    assert other.post("/kiosk/tools/holds/x/open").status_code == 404
    assert post(staff, f"/staff/residents/{second}/pickups/{door.id}/cancel").status_code == 404
    # A pickup the resident started at the kiosk is not a hold to open from here.
    own = kiosk_resident(station_app, app_station, 1)
    own.post(f"/kiosk/tools/{app_station.ladder_type}/borrow")
    ladder = doors(station_app)[-1]
    assert ladder.requested_by_staff_id is None
    assert own.post(f"/kiosk/tools/holds/{ladder.id}/open").status_code == 404
    # Signed out: sent to sign in.
    visitor = Resident(station_app, "")
    response = visitor.post(f"/kiosk/tools/holds/{door.id}/open")
    assert response.status_code == 302 and "/kiosk/sign-in" in response.headers["Location"]
    assert doors(station_app)[0].state is DoorSessionState.RESERVED
