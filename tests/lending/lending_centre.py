"""A small lending station: a locker of 8 compartments (drills in 1-3, a ladder in 4, 5-8
empty), a drag cart at the counter, three residents and a staff member. The clock starts on
Tuesday 2026-11-24 at 09:30 in Shanghai."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.lending.models.reservations import ToolReservation
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people import residents, staff
from booking.people.models.staff import StaffAccount, StaffRole
from devices.models.device import Device, DeviceKind


@dataclass(frozen=True)
class Station:
    site_id: int
    slug: str
    locker: str
    drill_type: int
    ladder_type: int
    cart_type: int
    drills: tuple[int, ...]
    ladder: int
    cart: int
    residents: tuple[int, ...]
    phones: tuple[str, ...]
    staff_id: int


def build_station(
    database: Database, clock: FrozenClock, *, slug: str = "lend", locker: str | None = None
) -> Station:
    now = clock.now()
    locker = locker or f"{slug}-locker"
    with database.write() as session:
        site = Site(slug=slug, name_zh="借用站", name_en="Lending station")
        session.add(site)
        session.flush()
        session.add(
            Device(
                site_id=site.id,
                device_id=locker,
                kind=DeviceKind.LOCKER,
                name="Locker A",
                mqtt_password_hash="$7$unused",
                capabilities={"compartments": 8},
                online=True,
                created_at=datetime.now(UTC),
            )
        )
        types = {
            code: ToolType(
                site_id=site.id, code=code, name_zh=zh, name_en=en, loan_days=days, icon=code
            )
            for code, zh, en, days in (
                ("drill", "电钻", "Electric drill", 3),
                ("ladder", "折叠梯", "Folding ladder", 2),
                ("cart", "拖车", "Drag cart", 3),
            )
        }
        session.add_all(types.values())
        session.flush()
        drills = [
            Item(site_id=site.id, tool_type_id=types["drill"].id, asset_tag=f"{slug}-D{n}",
                 locker_device_id=locker, compartment=n)
            for n in (1, 2, 3)
        ]  # fmt: skip
        ladder = Item(site_id=site.id, tool_type_id=types["ladder"].id, asset_tag=f"{slug}-L1",
                      locker_device_id=locker, compartment=4)  # fmt: skip
        cart = Item(site_id=site.id, tool_type_id=types["cart"].id, asset_tag=f"{slug}-C1")
        session.add_all([*drills, ladder, cart])
        session.flush()
        prefix = f"138{zlib.crc32(slug.encode()) % 10**6:06d}"
        people = tuple(
            residents.register_resident(
                session, site_id=site.id, name=name, phone=phone, pin="275139", now=now
            ).id
            for name, phone in (
                ("王秀英", f"{prefix}01"),
                ("李建国", f"{prefix}02"),
                ("张伟", f"{prefix}03"),
            )
        )
        worker = staff.create_staff(
            session,
            site_id=site.id,
            username=f"{slug}-staff",
            display_name="赵敏",
            password="linli-staff-2026",
            role=StaffRole.STAFF,
            now=now,
        )
        return Station(
            site_id=site.id,
            slug=slug,
            locker=locker,
            drill_type=types["drill"].id,
            ladder_type=types["ladder"].id,
            cart_type=types["cart"].id,
            drills=tuple(d.id for d in drills),
            ladder=ladder.id,
            cart=cart.id,
            residents=people,
            phones=(f"{prefix}01", f"{prefix}02", f"{prefix}03"),
            staff_id=worker.id,
        )


def staff_of(session, station: Station) -> StaffAccount:  # type: ignore[no-untyped-def]
    return session.scalars(select(StaffAccount).where(StaffAccount.id == station.staff_id)).one()


def report_locker(database: Database, station: Station, clock: FrozenClock) -> None:
    """What the worker's bridge records once the station's locker has connected, without a
    broker: the link beating, connected, and each compartment's lock, door and item (1-4
    hold their tools, 5-8 are empty), as the locker's birth reports them."""
    from devices.fleet import link_status
    from devices.models.compartments import Compartment, DoorState, LockState
    from devices.models.links import LinkState

    now = clock.now()
    with database.write() as session:
        link_status.record_link(session, site=station.slug, client_id=f"linli-server-{station.slug}",
                                state=LinkState.CONNECTED, now=now)  # fmt: skip
        device = session.scalars(select(Device).where(Device.device_id == station.locker)).one()
        device.online, device.session_counter, device.last_seen_at = True, 1, now
        for n in range(1, 9):
            session.add(Compartment(device_id=station.locker, n=n, lock=LockState.LOCKED,
                                    door=DoorState.CLOSED, item_present=n <= 4,
                                    updated_at=now))  # fmt: skip


def reservations_of(app: Flask) -> list[ToolReservation]:
    """Every tool reservation in the app's database, oldest first (detached, as they are now)."""
    from kiosk.extensions import database as app_database

    with app.app_context(), app_database().read() as session:
        found = list(session.scalars(select(ToolReservation).order_by(ToolReservation.id)))
        session.expunge_all()
        return found
