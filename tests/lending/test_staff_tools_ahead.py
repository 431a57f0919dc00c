"""Tools ahead of time in the console: staff renew a loan from its row (the history names
them and both due dates), are refused while another resident queues, and see and cancel each
tool's reservations and queue, in Chinese."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lending_centre import Station, staff_of
from sqlalchemy import select
from staff_lending import post

from booking.core.clock import FrozenClock
from booking.lending import operations as lending
from booking.lending import reservations
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan
from booking.lending.models.reservations import ReservationStatus, ToolReservation
from kiosk.extensions import database


def lend_the_ladder(app: Flask, station: Station, clock: FrozenClock) -> int:
    with app.app_context(), database().write() as session:
        return lending.lend_at_counter(session, staff=staff_of(session, station),
                                       item_id=station.ladder, resident_id=station.residents[0],
                                       now=clock.now()).id  # fmt: skip


def queue_for_the_ladder(app: Flask, station: Station, clock: FrozenClock, n: int) -> int:
    with app.app_context(), database().write() as session:
        return reservations.join_queue(session, site_id=station.site_id,
                                       resident_id=station.residents[n],
                                       tool_type_id=station.ladder_type, now=clock.now()).id  # fmt: skip


def test_staff_renew_a_loan_from_its_row_and_the_history_says_so(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    loan_id = lend_the_ladder(station_app, app_station, clock)
    page_url = f"/staff/lending/residents/{app_station.residents[0]}"
    page = staff.get(page_url).get_data(as_text=True)
    assert f'action="/staff/lending/loans/{loan_id}/renew"' in page and "续借" in page
    response = post(staff, f"/staff/lending/loans/{loan_id}/renew")
    assert response.status_code == 303 and response.headers["Location"].endswith(page_url)
    with station_app.app_context(), database().read() as session:
        loan = session.get_one(Loan, loan_id)
        assert loan.due_at == clock.now() + timedelta(days=4)
        event = session.scalars(
            select(LendingEvent).where(LendingEvent.action == LendingAction.RENEWED)
        ).one()
        assert event.actor == f"staff:{app_station.slug}-staff"
    page = staff.get(page_url).get_data(as_text=True)
    assert "已续借" in page and "现应还时间" in page


def test_staff_are_told_why_a_loan_others_wait_for_is_not_renewed(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    loan_id = lend_the_ladder(station_app, app_station, clock)
    queue_for_the_ladder(station_app, app_station, clock, 1)
    response = post(staff, f"/staff/lending/loans/{loan_id}/renew")
    assert response.status_code == 303
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "有其他居民在排队等这件工具，不能续借。" in page
    with station_app.app_context(), database().read() as session:
        assert session.get_one(Loan, loan_id).renewals == 0


def test_staff_see_each_tools_queue_in_order_and_cancel_a_place(
    station_app: Flask, app_station: Station, staff: FlaskClient, clock: FrozenClock
) -> None:
    lend_the_ladder(station_app, app_station, clock)
    first = queue_for_the_ladder(station_app, app_station, clock, 1)
    clock.advance(timedelta(minutes=1))
    second = queue_for_the_ladder(station_app, app_station, clock, 2)
    page = staff.get("/staff/lending/reservations").get_data(as_text=True)
    assert "折叠梯" in page and "排队第 1 位" in page and "排队第 2 位" in page
    assert page.index(f'data-reservation="{first}"') < page.index(f'data-reservation="{second}"')
    response = post(staff, f"/staff/lending/reservations/{first}/cancel")
    assert response.status_code == 303
    with station_app.app_context(), database().read() as session:
        assert session.get_one(ToolReservation, first).status is ReservationStatus.CANCELLED
    page = staff.get("/staff/lending/reservations").get_data(as_text=True)
    assert f'data-reservation="{first}"' not in page and "排队第 1 位" in page


@pytest.mark.parametrize("path", ["/staff/lending/loans/999999/renew",
                                  "/staff/lending/reservations/999999/cancel"])  # fmt: skip
def test_an_unknown_loan_or_reservation_changes_nothing(
    station_app: Flask, staff: FlaskClient, path: str
) -> None:
    response = post(staff, path)
    assert response.status_code == 303
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "本中心没有" in page
