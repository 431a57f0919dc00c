"""Two centres of one district on one deployment: the demo centre "xinhua", and "dongfang"
with a resident, an admin and a worker of its own."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.people import residents as resident_service
from booking.people import staff as staff_service
from booking.people.models.staff import StaffRole
from kiosk.extensions import database

PASSWORD = "dongfang-2026"
DONGFANG_RESIDENT = "东方居民甲"
DONGFANG_PHONE = "13912340001"


@dataclass(frozen=True)
class Dongfang:
    site_id: int
    resident_id: int
    admin_id: int
    worker_id: int


def add_dongfang(app: Flask, clock: FrozenClock) -> Dongfang:
    """The second centre: its admin "df.admin", its worker "df.wang" and one resident."""
    with app.app_context(), database().write() as session:
        site = sites.create_site(session, slug="dongfang", name_zh="东方中心", name_en="Dongfang")
        resident = resident_service.register_resident(
            session, site_id=site.id, name=DONGFANG_RESIDENT, phone=DONGFANG_PHONE,
            pin="275139", now=clock.now(),
        )  # fmt: skip
        accounts = [
            staff_service.create_staff(
                session,
                site_id=site.id,
                username=username,
                display_name=name,
                password=PASSWORD,
                role=role,
                now=clock.now(),
            )  # fmt: skip
            for username, name, role in (
                ("df.admin", "东方管理员", StaffRole.ADMIN),
                ("df.wang", "王东方", StaffRole.STAFF),
            )
        ]
        return Dongfang(site.id, resident.id, accounts[0].id, accounts[1].id)


def add_district_admin(app: Flask, clock: FrozenClock, site_slug: str = "xinhua") -> None:
    """ "qu.admin", a district admin whose home is ``site_slug``."""
    with app.app_context(), database().write() as session:
        staff_service.create_staff(
            session, site_id=sites.get_site_by_slug(session, site_slug).id, username="qu.admin",
            display_name="区管理员", password=PASSWORD, role=StaffRole.DISTRICT_ADMIN,
            now=clock.now(),
        )  # fmt: skip
