"""A page costs the same number of SQL statements whether it lists 5 rows or 50.

Each main page is fetched once with a few rows of what it lists (loans, bookings, residents)
and again after many more were added; the statements sent to the database are counted on the
database (SQLite's trace callback). A count that grows with the rows is an N+1: a query
per row where one query (or eager loading) should fetch them all. Counts, not timings: the
machine running the suite may be loaded by anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, select

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.reservations import ToolReservation
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people.models.residents import Resident
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions
from tests.district_centres import (
    DISTRICT_ADMIN,
    DISTRICT_PASSWORD,
    add_centres,
    add_district_admin,
)
from tests.kiosk.conftest import DEMO_PHONE, KioskActions
from tests.mobile.conftest import PhoneActions
from tests.resident_rows import residents_named_test

FEW, MANY = 5, 50


def add_rows(app: Flask, clock: FrozenClock, count: int, first: int) -> None:
    """``count`` more of each listed thing for the demo resident and centre: residents, loans
    (returned and open) and bookings (past and coming), each on a day of its own."""
    if first == 0:
        residents_named_test(app, clock, count, digits=3)
    else:
        _more_residents(app, clock, count, first)
    now = clock.now()
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        resident_id = session.scalar(select(Resident.id).where(Resident.phone == DEMO_PHONE))
        items = session.execute(
            select(Item.id, Item.tool_type_id).where(Item.site_id == site.id).order_by(Item.id)
        ).all()
        seats = session.execute(select(Seat.id, Seat.space_id).order_by(Seat.id)).all()
        loans: list[dict[str, Any]] = []
        bookings: list[dict[str, Any]] = []
        for n in range(first, first + count):
            item_id, type_id = items[n % len(items)]
            started = now - timedelta(days=400 - n)
            loans.append(
                {"site_id": site.id, "item_id": item_id, "tool_type_id": type_id,
                 "resident_id": resident_id, "channel": LoanChannel.COUNTER,
                 "status": LoanStatus.RETURNED, "started_at": started,
                 "due_at": started + timedelta(days=3), "returned_at": started + timedelta(days=1),
                 "return_note": ""}
            )  # fmt: skip
            seat_id, space_id = seats[n % len(seats)]
            # Half in the past (history), half coming (what the resident still has ahead).
            day = now + timedelta(days=(n // 2 + 1) * (1 if n % 2 else -1))
            bookings.append(
                {"site_id": site.id, "space_id": space_id, "seat_id": seat_id,
                 "resident_id": resident_id,
                 "status": BookingStatus.CONFIRMED if n % 2 else BookingStatus.COMPLETED,
                 "starts_at": day, "ends_at": day + timedelta(hours=2), "created_at": now}
            )  # fmt: skip
        session.execute(insert(Loan), loans)
        session.execute(insert(Booking), bookings)


def _more_residents(app: Flask, clock: FrozenClock, count: int, first: int) -> None:
    from booking.people import residents as resident_service

    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        for n in range(first, first + count):
            resident_service.register_resident(
                session, site_id=site.id, name=f"测试{n:03d}", phone=f"1370000{n:04d}",
                pin="275139", now=clock.now(),
            )  # fmt: skip


def statements(app: Flask, fetch: Callable[[], Any]) -> list[str]:
    """The SQL statements the database runs while ``fetch`` runs (after checking it answered
    200). Counted by SQLite itself (its trace callback on every connection opened meanwhile),
    not by the engine's ``before_cursor_execute``: the hottest reads (booking.core.driver_sql)
    go straight to the driver's cursor, which the engine's events never see."""
    sent: list[str] = []

    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(sent.append)

    with app.app_context():
        engine = database().engine
    assert engine.dialect.name == "sqlite"
    engine.dispose()  # so every connection the request uses is a new, traced one
    event.listen(engine, "connect", trace)
    try:
        response = fetch()
    finally:
        event.remove(engine, "connect", trace)
        engine.dispose()
    assert response.status_code == 200, response.status_code
    assert sent, "no statement seen: the count would prove nothing"
    return sent


PAGES: dict[str, tuple[str, str]] = {
    # name: (who is signed in, path)
    "kiosk home, signed out": ("nobody", "/kiosk/"),
    "kiosk home, signed in": ("kiosk", "/kiosk/"),
    "kiosk tools": ("kiosk", "/kiosk/tools"),
    "my bookings": ("kiosk", "/kiosk/bookings"),
    "phone home": ("phone", "/m/"),
    "phone bookings": ("phone", "/m/bookings"),
    "console overview": ("staff", "/staff/"),
    "staff residents": ("staff", "/staff/residents"),
    "staff lending records": ("staff", "/staff/lending"),
    "availability API": ("staff", "AVAILABILITY"),
}


def signed_in_client(app: Flask, who: str) -> FlaskClient:
    client = app.test_client()
    if who == "kiosk":
        KioskActions(client).sign_in()
    elif who == "phone":
        PhoneActions(client).sign_in()
    elif who == "staff":
        StaffActions(client).sign_in()
    return client


def availability_path(app: Flask, clock: FrozenClock) -> str:
    with app.app_context(), database().read() as session:
        space_id = session.scalar(select(Seat.space_id).order_by(Seat.id).limit(1))
    starts = (clock.now() + timedelta(days=1)).replace(hour=6, minute=0)
    ends = starts + timedelta(hours=2)
    return (
        f"/api/v1/spaces/{space_id}/seats?starts_at={starts.isoformat().replace('+', '%2B')}"
        f"&ends_at={ends.isoformat().replace('+', '%2B')}"
    )


@pytest.mark.parametrize("page", list(PAGES))
def test_a_pages_query_count_does_not_grow_with_its_rows(
    app: Flask, clock: FrozenClock, demo: None, page: str
) -> None:
    who, path = PAGES[page]
    if path == "AVAILABILITY":
        path = availability_path(app, clock)
    client = signed_in_client(app, who)
    add_rows(app, clock, FEW, first=0)
    client.get(path)  # warm: first-request work (caches, lazy imports) is not per row
    few = statements(app, lambda: client.get(path))
    add_rows(app, clock, MANY - FEW, first=FEW)
    many = statements(app, lambda: client.get(path))
    print(f"{page}: {len(few)} statements with {FEW} rows, {len(many)} with {MANY}")
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize(
    "path", ["/staff/district", "/staff/district/today.csv", "/staff/district/alerts.csv"]
)
def test_the_district_overview_costs_the_same_for_3_centres_as_for_30(
    app: Flask, clock: FrozenClock, demo: None, path: str
) -> None:
    # A district may run 200 centres: a statement per centre would be 200 round trips.
    with app.app_context(), database().write() as session:
        add_district_admin(session, now=clock.now())
        add_centres(session, now=clock.now(), count=3)
    client = app.test_client()
    assert StaffActions(client).sign_in(DISTRICT_ADMIN, DISTRICT_PASSWORD).status_code == 302
    client.get(path)  # warm
    few = statements(app, lambda: client.get(path))
    with app.app_context(), database().write() as session:
        add_centres(session, now=clock.now(), count=27, first=3)
    many = statements(app, lambda: client.get(path))
    print(f"{path}: {len(few)} statements with 4 centres, {len(many)} with 31")
    assert len(many) == len(few), "\n".join(many)


def add_tool_types(app: Flask, count: int, first: int) -> None:
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        session.add_all(
            ToolType(site_id=site.id, code=f"tool-{n}", name_zh=f"工具{n}", name_en=f"Tool {n}")
            for n in range(first, first + count)
        )


@pytest.mark.parametrize(
    ("who", "path"), [("kiosk", "/kiosk/tools"), ("staff", "/api/v1/lending/tools")]
)
def test_the_tool_catalogue_costs_the_same_for_few_tool_types_as_for_many(
    app: Flask, demo: None, who: str, path: str
) -> None:
    # Each type's share promised to others' reservations was a read of its own.
    client = signed_in_client(app, who)
    add_tool_types(app, 1, first=0)
    client.get(path)  # warm
    few = statements(app, lambda: client.get(path))
    add_tool_types(app, 12, first=1)
    many = statements(app, lambda: client.get(path))
    assert "Tool 12" in client.get(path).get_data(as_text=True)
    print(f"{path}: {len(few)} statements with few tool types, {len(many)} with 12 more")
    assert len(many) == len(few), "\n".join(many)


def add_rooms(app: Flask, count: int, first: int, kind: SpaceKind) -> None:
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        for n in range(first, first + count):
            room = Space(site_id=site.id, code=f"room-{n}", kind=kind, name_zh=f"房间{n}",
                         name_en=f"Room {n}", capacity=10)  # fmt: skip
            session.add(room)
            session.flush()
            if kind is SpaceKind.STUDY:
                session.add_all(Seat(space_id=room.id, number=k) for k in range(1, 4))


@pytest.mark.parametrize(
    ("path", "kind"), [("/kiosk/rooms", SpaceKind.ACTIVITY), ("/kiosk/seats", SpaceKind.STUDY)]
)
def test_the_kiosks_room_pages_cost_the_same_for_few_rooms_as_for_many(
    app: Flask, demo: None, path: str, kind: SpaceKind
) -> None:
    # The activity rooms' timeline read each room's day and rules on its own, and the study
    # rooms' list each room's seats, rules and taken seats: three statements a room.
    client = signed_in_client(app, "kiosk")
    add_rooms(app, 1, first=0, kind=kind)
    client.get(path)  # warm
    few = statements(app, lambda: client.get(path))
    add_rooms(app, 10, first=1, kind=kind)
    many = statements(app, lambda: client.get(path))
    assert "房间10" in client.get(path).get_data(as_text=True)
    print(f"{path}: {len(few)} statements with few rooms, {len(many)} with 10 more")
    assert len(many) == len(few), "\n".join(many)


def add_reservations(app: Flask, clock: FrozenClock, tools: int, first: int) -> None:
    """``tools`` more tool types, each with two residents queueing and a window ahead."""
    now = clock.now()
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        people = session.scalars(select(Resident.id).order_by(Resident.id).limit(3)).all()
        for n in range(first, first + tools):
            tool = ToolType(site_id=site.id, code=f"kept-{n}", name_zh=f"预约工具{n}",
                            name_en=f"Reserved {n}")  # fmt: skip
            session.add(tool)
            session.flush()
            for k, resident_id in enumerate(people[:2]):
                session.add(ToolReservation.in_queue(site_id=site.id, tool_type_id=tool.id,
                                                     resident_id=resident_id,
                                                     now=now + timedelta(seconds=k)))  # fmt: skip
            session.add(ToolReservation.for_window(
                site_id=site.id, tool_type_id=tool.id, resident_id=people[2],
                starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=2),
                now=now,
            ))  # fmt: skip


@pytest.mark.parametrize(("who", "path"), [("staff", "/staff/lending/reservations"),
                                           ("admin", "/staff/admin/spaces")])  # fmt: skip
def test_the_consoles_tool_and_room_lists_cost_the_same_for_few_as_for_many(
    app: Flask, clock: FrozenClock, demo: None, who: str, path: str
) -> None:
    # Each reservation's queue place and each tool's list were a read of their own, and the
    # rooms' list read each room's seats.
    client = app.test_client()
    if who == "admin":
        StaffActions(client).sign_in("admin", ADMIN_PASSWORD)
    else:
        StaffActions(client).sign_in()

    def add(count: int, first: int) -> None:
        add_reservations(app, clock, count, first)
        add_rooms(app, count, first, SpaceKind.STUDY)

    add(1, first=0)
    client.get(path)  # warm
    few = statements(app, lambda: client.get(path))
    add(6, first=1)
    many = statements(app, lambda: client.get(path))
    page = client.get(path).get_data(as_text=True)
    assert ("预约工具6" if who == "staff" else "房间6") in page
    if who == "staff":  # each tool's queue counted on its own
        assert page.count("排队第 1 位") == page.count("排队第 2 位") == 7, page
    print(f"{path}: {len(few)} statements with few, {len(many)} with more")
    assert len(many) == len(few), "\n".join(many)
