"""What the tests of staff lending for a resident share: the console's form posts, the rows
written, and the locker's events for a pickup as devices.locker.events hands them on."""

from __future__ import annotations

import re
from itertools import count

from flask import Flask
from flask.testing import FlaskClient
from lending_centre import Station
from sqlalchemy import select
from werkzeug.test import TestResponse

from booking.core.clock import FrozenClock
from booking.lending import door_session
from booking.lending.history import DeviceRef
from booking.lending.models.door_sessions import DoorSession
from booking.lending.models.loans import Loan
from kiosk.extensions import database

SEQ = count(1)


def csrf(client: FlaskClient) -> str:
    page = client.get("/staff/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def post(client: FlaskClient, path: str) -> TestResponse:
    return client.post(path, data={"csrf_token": csrf(client)})


def doors(app: Flask) -> list[DoorSession]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(DoorSession).order_by(DoorSession.id)))
        session.expunge_all()
        return found


def loans(app: Flask) -> list[Loan]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(Loan).order_by(Loan.id)))
        session.expunge_all()
        return found


def notices(page: str) -> str:
    return " ".join(re.findall(r'<p class="notice notice-\w+" role="status">(.*?)</p>', page))


def the_locker(app: Flask, station: Station, door_id: int, clock: FrozenClock, step: str) -> None:
    """The locker's events for the pickup: "take" (door opened, the tool gone) or "close"."""
    with app.app_context(), database().write() as session:
        door = session.get_one(DoorSession, door_id)
        ref = DeviceRef(station.locker, 1, next(SEQ))
        if step == "take":
            door_session.door_opened(session, door, clock.now(), ref)
            door_session.item_sensed(session, door, False, clock.now(), ref)
        else:
            door_session.door_closed(session, door, clock.now(), ref)
