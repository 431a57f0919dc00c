"""Helpers for the kiosk's booking tests: seat and room ids of the demo centre, form posts."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from booking.core.models.sites import Site
from booking.spaces.models.bookings import Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from kiosk.extensions import database
from tests.kiosk.conftest import KioskActions

TODAY = "2026-11-24"  # the clock fixture's Tuesday
TOMORROW = "2026-11-25"


def seat_id(app: Flask, number: int) -> int:
    with app.app_context(), database().read() as session:
        found = session.scalar(
            select(Seat.id).join(Space).where(Space.code == "study", Seat.number == number)
        )
        assert found is not None
        return found


def room_id(app: Flask, code: str) -> int:
    with app.app_context(), database().read() as session:
        found = session.scalar(select(Space.id).where(Space.code == code))
        assert found is not None
        return found


def bookings(app: Flask) -> list[Booking]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(Booking).order_by(Booking.id)))
        session.expunge_all()  # kept as read: the read-only block's rollback would expire them
        return found


def post(kiosk: KioskActions, path: str, **fields: str | int) -> TestResponse:
    data = {key: str(value) for key, value in fields.items()}
    data["csrf_token"] = kiosk.csrf_token()
    return kiosk.client.post(path, data=data)


def page(kiosk: KioskActions, path: str) -> str:
    return kiosk.client.get(path).get_data(as_text=True)


def seat_state(page_text: str, number: int) -> str:
    match = re.search(rf'data-seat="{number}" data-state="(\w+)"', page_text)
    assert match, f"seat {number} is not on the map"
    return match.group(1)


def book_seat(
    kiosk: KioskActions,
    app: Flask,
    number: int,
    start: str = "10:00",
    minutes: int = 120,
    day: str = TODAY,
) -> TestResponse:
    return post(
        kiosk,
        "/kiosk/seats/book",
        seat_id=seat_id(app, number),
        day=day,
        start=start,
        minutes=minutes,
        return_to="/kiosk/seats",
    )


def site_id(app: Flask, slug: str) -> int:
    """A centre's id by its slug (the demo district's centres in the tests of visiting)."""
    with app.app_context(), database().read() as session:
        return session.scalars(select(Site.id).where(Site.slug == slug)).one()


def seat_at(app: Flask, slug: str, number: int) -> int:
    """Seat ``number`` of a centre's study room."""
    with app.app_context(), database().read() as session:
        return session.scalars(
            select(Seat.id)
            .join(Space)
            .where(
                Space.site_id == site_id(app, slug), Space.code == "study", Seat.number == number
            )
        ).one()
