"""The district of bench/district.py: its sites, their devices registered as the registry
registers them (``devices.fleet.provisioning.register_device``: the broker password issued and
hashed, the compartments made), and at the kiosk sites a study room, residents, tools and an
admin's API token for the booking and lending calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

import devices.models  # noqa: F401  (so create_all makes every table)
import kiosk.models  # noqa: F401
from booking.core.db import Base, Database
from booking.core.sites import create_site
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people import api_tokens, staff
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffRole
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from devices.fleet import provisioning

SEATS = 24
RESIDENTS = 40
TOOLS = (("drill", "电钻", "Electric drill"), ("ladder", "折叠梯", "Folding ladder"),
         ("toolbox", "维修工具箱", "Repair toolbox"))  # fmt: skip
SCOPES = ("availability:read", "bookings:read", "bookings:write", "tools:read",
          "lending:read", "lending:write")  # fmt: skip


@dataclass(frozen=True)
class Kiosk:
    """What a kiosk site's load generator needs."""

    site: str
    token: str
    study_id: int
    seat_ids: list[int]
    resident_ids: list[int]


@dataclass(frozen=True)
class District:
    sites: list[str]
    devices: list[tuple[str, str]]  # (device id, site)
    kiosks: list[Kiosk]
    command_locker: str  # at sites[0], answered by linli_sim's LockerSim


def site_slug(n: int) -> str:
    return f"d{n:03d}"


def seed(database: Database, n_sites: int, per_site: int, n_kiosks: int) -> District:
    Base.metadata.create_all(database.engine)
    now = datetime.now(UTC)
    sites, devices, kiosks = [], [], []
    for n in range(1, n_sites + 1):
        slug = site_slug(n)
        with database.write() as session:
            site = create_site(session, slug=slug, name_zh=f"邻里中心{n}", name_en=f"Centre {n}")
            session.flush()
            for d in range(1, per_site + 1):
                device_id = f"{slug}-locker-{d:02d}"
                provisioning.register_device(session, site.id, device_id, "locker", device_id,
                                             now, compartments=8)  # fmt: skip
                devices.append((device_id, slug))
            if n == 1:
                provisioning.register_device(session, site.id, f"{slug}-cmd", "locker",
                                             "command round trips", now, compartments=8)  # fmt: skip
            if n <= n_kiosks:
                kiosks.append(_kiosk(session, site.id, slug, now))
        sites.append(slug)
    return District(sites, devices, kiosks, f"{site_slug(1)}-cmd")


def _kiosk(session: Session, site_id: int, slug: str, now: datetime) -> Kiosk:
    study = Space(site_id=site_id, code="study", kind=SpaceKind.STUDY, name_zh="自习室",
                  name_en="Study room", capacity=SEATS)  # fmt: skip
    study.seats = [Seat(number=n, map_row=(n - 1) // 6, map_col=(n - 1) % 6)
                   for n in range(1, SEATS + 1)]  # fmt: skip
    session.add(study)
    for code, zh, en in TOOLS:
        tool = ToolType(site_id=site_id, code=code, name_zh=zh, name_en=en)
        session.add(tool)
        session.flush()
        session.add_all(Item(site_id=site_id, tool_type_id=tool.id,
                             asset_tag=f"{slug}-{code}-{i}".upper()) for i in range(1, 3))  # fmt: skip
    # Residents straight into the tables: registration (Argon2) is not what is measured.
    people = [Resident(name=f"居民{slug}-{n}", phone=f"139{int(slug[1:]):03d}{n:05d}",
                       pin_hash="-", created_at=now) for n in range(RESIDENTS)]  # fmt: skip
    session.add_all(people)
    session.flush()
    session.add_all(ResidentMembership(resident_id=p.id, site_id=site_id, joined_at=now)
                    for p in people)  # fmt: skip
    admin = staff.create_staff(session, site_id=site_id, username=f"admin-{slug}",
                               display_name=f"管理员 {slug}", password="bench-password-1",
                               role=StaffRole.ADMIN, now=now)  # fmt: skip
    _, secret = api_tokens.create_token(session, staff=admin, name="kiosk bench", scopes=SCOPES,
                                        expires_at=now + timedelta(days=1), now=now)  # fmt: skip
    session.flush()
    return Kiosk(slug, secret, study.id, [s.id for s in study.seats], [p.id for p in people])
