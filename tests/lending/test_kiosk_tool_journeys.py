"""Tool journeys of a resident who is not signed in yet: the kiosk asks them to sign in and
then carries on with what they tapped, without doing it for them behind their back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from kiosk_helpers import Resident
from lending_centre import Station, staff_of
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.lending import operations as lending
from booking.lending.models.door_sessions import DoorSession
from kiosk.extensions import database as app_database


def door_sessions(app: Flask) -> int:
    with app.app_context(), app_database().read() as session:
        return int(session.scalar(select(func.count()).select_from(DoorSession)) or 0)


@pytest.mark.usefixtures("lockers_up")
def test_borrowing_while_signed_out_comes_back_to_the_same_tool_after_sign_in(
    station_app: Flask, app_station: Station
) -> None:
    resident = Resident(station_app, app_station.phones[0])
    tools = resident.page("/kiosk/tools")
    assert f'value="/kiosk/tools#tool-{app_station.drill_type}"' in tools

    asked = resident.post(
        f"/kiosk/tools/{app_station.drill_type}/borrow",
        return_to=f"/kiosk/tools#tool-{app_station.drill_type}",
    )
    sign_in_url = asked.headers["Location"]
    assert urlsplit(sign_in_url).path == "/kiosk/sign-in"
    next_page = parse_qs(urlsplit(sign_in_url).query)["next"][0]
    assert next_page == f"/kiosk/tools#tool-{app_station.drill_type}"
    form = resident.page(sign_in_url)
    assert f'name="next" value="/kiosk/tools#tool-{app_station.drill_type}"' in form

    signed_in = resident.client.post("/kiosk/sign-in", data={
        "phone": resident.phone, "pin": resident.pin, "next": next_page,
        "csrf_token": resident.token(),
    })  # fmt: skip
    assert signed_in.headers["Location"] == f"/kiosk/tools#tool-{app_station.drill_type}"
    # Back on the page that offered the tool, signed in; the tap is not replayed for them.
    assert door_sessions(station_app) == 0
    assert 'data-signed-in="true"' in resident.page("/kiosk/tools")


def test_the_home_screen_offers_return_a_tool_to_everyone(station_app: Flask) -> None:
    home = Resident(station_app, "").page("/kiosk/")
    assert 'href="/kiosk/tools/mine"' in home
    assert "还工具" in home


def test_return_a_tool_from_home_signs_in_then_opens_my_tools(
    station_app: Flask, app_station: Station, clock: FrozenClock
) -> None:
    with station_app.app_context(), app_database().write() as session:
        lending.lend_at_counter(
            session, staff=staff_of(session, app_station), item_id=app_station.cart,
            resident_id=app_station.residents[0], now=clock.now(),
        )  # fmt: skip
    resident = Resident(station_app, app_station.phones[0])
    asked = resident.client.get("/kiosk/tools/mine")
    assert asked.headers["Location"] == "/kiosk/sign-in?next=/kiosk/tools/mine"
    signed_in = resident.client.post("/kiosk/sign-in", data={
        "phone": resident.phone, "pin": resident.pin, "next": "/kiosk/tools/mine",
        "csrf_token": resident.token(),
    })  # fmt: skip
    assert signed_in.headers["Location"] == "/kiosk/tools/mine"
    mine = resident.page("/kiosk/tools/mine")
    assert "拖车" in mine and 'id="loan-' in mine
