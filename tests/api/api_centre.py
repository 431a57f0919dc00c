"""The demo centre's rooms, seats and residents as the API tests name them, and the test's
Tuesday as the wall clock in Shanghai."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from booking.people.models.residents import Resident
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from kiosk.extensions import database

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(hour: int, minute: int = 0, days: int = 0) -> str:
    """A Shanghai wall-clock time on the test's Tuesday (2026-11-24), ISO with its offset."""
    day = datetime(2026, 11, 24, hour, minute, tzinfo=SHANGHAI) + timedelta(days=days)
    return day.isoformat()


@dataclass(frozen=True)
class Ids:
    study: int
    seat1: int
    seat2: int
    dance: int
    meeting: int
    wang: int
    li: int


def demo_ids(app: Flask) -> Ids:
    with app.app_context(), database().read() as session:
        spaces = {s.code: s.id for s in session.scalars(select(Space))}
        seat_ids = {
            s.number: s.id
            for s in session.scalars(select(Seat).where(Seat.space_id == spaces["study"]))
        }
        people = {r.phone: r.id for r in session.scalars(select(Resident))}
    return Ids(
        study=spaces["study"],
        seat1=seat_ids[1],
        seat2=seat_ids[2],
        dance=spaces["dance"],
        meeting=spaces["meeting"],
        wang=people["13800000001"],
        li=people["13800000002"],
    )
