"""Tools ahead of time at the kiosk: a signed-in resident reserves a tool for a day and a
time, queues for one when none is free, sees and cancels either under "my tools", renews a
loan there, and is told in Chinese why anything is refused (which changes nothing)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from kiosk_helpers import Resident
from lending_centre import Station, reservations_of, staff_of

from booking.core.clock import FrozenClock
from booking.lending import operations as lending
from booking.lending.models.loans import Loan
from booking.lending.models.reservations import (
    ReservationKind,
    ReservationStatus,
)
from kiosk.extensions import database

TOMORROW = "2026-11-25"


def notices(page: str) -> str:
    """What the kiosk flashed on the page (in its notice boxes)."""
    return " ".join(
        re.findall(r'<div class="notice notice-\w+" role="status">.*?<p>(.*?)</p>', page)
    )  # the station's clock starts on Tuesday 2026-11-24


def signed_in(app: Flask, station: Station, n: int = 0) -> Resident:
    resident = Resident(app, station.phones[n])
    resident.sign_in()
    return resident


def lend_the_ladder(app: Flask, station: Station, clock: FrozenClock, n: int = 0) -> int:
    with app.app_context(), database().write() as session:
        return lending.lend_at_counter(session, staff=staff_of(session, station),
                                       item_id=station.ladder, resident_id=station.residents[n],
                                       now=clock.now()).id  # fmt: skip


@pytest.mark.usefixtures("lockers_up")
def test_a_resident_reserves_the_ladder_for_tomorrow_morning_and_cancels_it(
    station_app: Flask, app_station: Station
) -> None:
    resident = signed_in(station_app, app_station)
    form = resident.page(f"/kiosk/tools/{app_station.ladder_type}/reserve")
    assert "哪一天？" in form and "上午 9:00 至 12:00" in form
    response = resident.post(f"/kiosk/tools/{app_station.ladder_type}/reserve",
                             day=TOMORROW, window="morning")  # fmt: skip
    assert response.status_code == 302 and "/kiosk/tools/mine" in response.headers["Location"]
    [made] = reservations_of(station_app)
    assert (made.kind, made.status) == (ReservationKind.WINDOW, ReservationStatus.WAITING)
    assert made.window_starts_at is not None
    assert made.window_starts_at.isoformat() == "2026-11-25T01:00:00+00:00"  # 09:00 Shanghai
    mine = resident.page("/kiosk/tools/mine")
    assert "预约成功" in notices(mine)
    assert f'id="reservation-{made.id}"' in mine and "已预约：11-25" in mine
    resident.post(f"/kiosk/tools/reservations/{made.id}/cancel")
    assert reservations_of(station_app)[0].status is ReservationStatus.CANCELLED
    assert "已取消" in notices(resident.page("/kiosk/tools/mine"))


@pytest.mark.usefixtures("lockers_up")
def test_with_the_ladder_out_a_resident_queues_and_sees_their_place(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    lend_the_ladder(station_app, app_station, clock)
    resident = signed_in(station_app, app_station, 1)
    tools = resident.page("/kiosk/tools")
    assert f'action="/kiosk/tools/{app_station.ladder_type}/queue"' in tools
    assert "排队等下一件" in tools
    resident.post(f"/kiosk/tools/{app_station.ladder_type}/queue")
    [place] = reservations_of(station_app)
    assert (place.kind, place.resident_id) == (ReservationKind.QUEUE, app_station.residents[1])
    mine = resident.page("/kiosk/tools/mine")
    assert "您已排在第1位" in notices(mine) and "排队中：您排在第1位。" in mine


@pytest.mark.usefixtures("lockers_up")
def test_a_free_tool_is_borrowed_not_queued_for(station_app: Flask, app_station: Station) -> None:
    resident = signed_in(station_app, app_station)
    resident.post(f"/kiosk/tools/{app_station.ladder_type}/queue")
    assert reservations_of(station_app) == []
    assert "现在就有空闲的" in notices(resident.page("/kiosk/tools"))


@pytest.mark.usefixtures("lockers_up")
def test_a_resident_renews_a_loan_once_and_not_while_others_queue(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_the_ladder(station_app, app_station, clock)
    resident = signed_in(station_app, app_station)
    assert "续借" in resident.page("/kiosk/tools/mine")
    resident.post(f"/kiosk/tools/loans/{loan_id}/renew")
    assert "续借成功" in notices(resident.page("/kiosk/tools/mine"))
    resident.post(f"/kiosk/tools/loans/{loan_id}/renew")
    assert "续借次数已用完" in notices(resident.page("/kiosk/tools/mine"))
    with station_app.app_context(), database().read() as session:
        assert session.get_one(Loan, loan_id).renewals == 1


@pytest.mark.usefixtures("lockers_up")
def test_a_loan_is_not_renewed_while_another_resident_waits(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_the_ladder(station_app, app_station, clock)
    signed_in(station_app, app_station, 1).post(f"/kiosk/tools/{app_station.ladder_type}/queue")
    resident = signed_in(station_app, app_station)
    resident.post(f"/kiosk/tools/loans/{loan_id}/renew")
    assert "有其他居民在排队等这件工具" in notices(resident.page("/kiosk/tools/mine"))
    with station_app.app_context(), database().read() as session:
        assert session.get_one(Loan, loan_id).renewals == 0


@pytest.mark.usefixtures("lockers_up")
@pytest.mark.parametrize(
    "data",
    [
        {"day": TOMORROW, "window": "midnight"},
        {"day": "2026-11-24", "window": "morning"},  # today: not offered
        {"day": "2027-01-01", "window": "morning"},
        {"day": "not a day", "window": "morning"},
        {"day": "", "window": ""},
    ],
)
def test_a_day_or_time_not_offered_is_refused_in_chinese_and_reserves_nothing(
    station_app: Flask, app_station: Station, data: dict[str, str]
) -> None:
    resident = signed_in(station_app, app_station)
    response = resident.post(f"/kiosk/tools/{app_station.ladder_type}/reserve", **data)
    assert response.status_code == 302
    assert reservations_of(station_app) == []
    page = resident.page(f"/kiosk/tools/{app_station.ladder_type}/reserve")
    assert "请从列表中选择日期和时间" in notices(page)


@pytest.mark.usefixtures("lockers_up")
def test_nobody_cancels_another_residents_reservation_or_renews_their_loan(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    owner = signed_in(station_app, app_station)
    owner.post(f"/kiosk/tools/{app_station.ladder_type}/reserve", day=TOMORROW, window="morning")
    [made] = reservations_of(station_app)
    loan_id = lend_the_ladder(station_app, app_station, clock)
    other = signed_in(station_app, app_station, 2)
    other.post(f"/kiosk/tools/reservations/{made.id}/cancel")
    other.post(f"/kiosk/tools/loans/{loan_id}/renew")
    assert reservations_of(station_app)[0].status is ReservationStatus.WAITING
    with station_app.app_context(), database().read() as session:
        assert session.get_one(Loan, loan_id).renewals == 0
    assert other.client.post(f"/kiosk/tools/{999999}/reserve").status_code in (302, 400)
    assert other.client.get("/kiosk/tools/999999/reserve").status_code == 404


def test_signed_out_the_reserve_page_asks_to_sign_in(
    station_app: Flask, app_station: Station
) -> None:
    visitor = Resident(station_app, "")
    response = visitor.client.get(f"/kiosk/tools/{app_station.ladder_type}/reserve")
    assert response.status_code == 302 and "sign-in" in response.headers["Location"]


@pytest.mark.usefixtures("lockers_up")
def test_the_first_in_the_queue_finds_the_returned_ladder_held_and_a_message_in_chinese(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    loan_id = lend_the_ladder(station_app, app_station, clock)
    first, second = signed_in(station_app, app_station, 1), signed_in(station_app, app_station, 2)
    first.post(f"/kiosk/tools/{app_station.ladder_type}/queue")
    second.post(f"/kiosk/tools/{app_station.ladder_type}/queue")
    with station_app.app_context(), database().write() as session:
        lending.return_at_counter(session, staff=staff_of(session, app_station), loan_id=loan_id,
                                  condition="fine", now=clock.now())  # fmt: skip
    tools = first.page("/kiosk/tools")
    assert 'class="tool-card hold-card"' in tools and "开柜取工具" in tools
    assert "好消息：您排队等候的折叠梯已归还，放在工具柜里为您保留到" in first.page(
        "/kiosk/bookings"
    )
    assert 'class="tool-card hold-card"' not in second.page("/kiosk/tools")
    assert "排队中：您排在第1位。" in second.page("/kiosk/tools/mine")
