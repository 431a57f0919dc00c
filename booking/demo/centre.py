"""The demo centre that `make demo` seeds: the one our users know.

Idempotent: seeding twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health.models.consents import ConsentChannel, HealthConsent
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people import residents, staff
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffRole
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind

SITE_SLUG = "xinhua"
LOCKERS = ("locker-a", "locker-b")
COMPARTMENTS_PER_LOCKER = 8
BP_TERMINALS = ("bp-1",)
# What residents read on a slip ("工具柜 A，3 号柜格"): staff name devices in the centre's
# language; the id stays the technical name on the broker.
DEVICE_NAMES = {"locker-a": "工具柜 A", "locker-b": "工具柜 B", "bp-1": "血压计"}


@dataclass(frozen=True)
class DemoLogin:
    who: str
    login: str
    secret: str


DEMO_RESIDENTS = (
    # name, phone, PIN, card, elderly, lives alone
    ("王秀英", "13800000001", "275139", "CARD0001", True, True),
    ("李建国", "13800000002", "386204", "CARD0002", True, False),
    ("张伟", "13800000003", "497315", None, False, False),
    ("陈静", "13800000004", "508426", "CARD0004", False, False),
    ("刘桂兰", "13800000005", "619537", "CARD0005", True, False),
)
DEMO_STAFF = (
    ("zhao", "赵敏 (社区工作者)", "linli-staff-2026", StaffRole.STAFF),
    ("admin", "孙主任 (站长)", "linli-admin-2026", StaffRole.ADMIN),
)

# code, zh, en, loan days, icon, compartments it occupies per locker (0 = counter only), counter count
TOOL_TYPES = (
    ("ladder", "折叠梯", "Folding ladder", 2, "ladder"),
    ("drill", "电钻", "Electric drill", 3, "drill"),
    ("toolbox", "维修工具箱", "Repair toolbox", 3, "toolbox"),
    ("first-aid", "急救包", "First-aid kit", 7, "first-aid"),
    ("glue-gun", "热熔胶枪", "Hot glue gun", 3, "tool"),
    ("cart", "拖板车", "Drag cart", 1, "cart"),
    ("long-ladder", "长人字梯", "Long step ladder", 1, "ladder"),
)
# What the kiosk's catalogue says under each tool (zh, en): how to use it safely.
SAFETY_NOTES = {
    "ladder": ("使用前确认四脚着地并锁紧撑杆；请勿站在最上两级。",
               "Lock the spreader and stand it on all four feet; never stand on the top two steps."),
    "drill": ("钻墙前请确认没有暗埋电线和水管；佩戴护目镜。",
              "Check the wall for hidden cables and pipes before drilling; wear the goggles."),
    "glue-gun": ("枪嘴很烫，用完放回支架，冷却后再放回柜中。",
                 "The nozzle is hot: rest it on its stand and let it cool before returning it."),
    "long-ladder": ("需两人配合使用，一人扶梯。", "Use it with two people: one holds the ladder."),
}  # fmt: skip

# What sits in each locker compartment, in order; the rest of the fleet is at the counter.
LOCKER_LAYOUT = {
    "locker-a": (
        "drill",
        "drill",
        "drill",
        "toolbox",
        "toolbox",
        "first-aid",
        "first-aid",
        "glue-gun",
    ),
    "locker-b": (
        "ladder",
        "ladder",
        "drill",
        "toolbox",
        "first-aid",
        "glue-gun",
        "glue-gun",
        "toolbox",
    ),
}
COUNTER_ITEMS = ("cart", "cart", "long-ladder")

ACTIVITY_ROOMS = (
    ("dance", "舞蹈室", "Dance room", 20, False),
    ("table-tennis", "乒乓球室", "Table tennis room", 8, False),
    ("calligraphy", "书画室", "Calligraphy room", 12, False),
    ("meeting", "协商议事室", "Residents' meeting room", 16, True),
)
STUDY_SEATS = 24
POWER_SEATS = {1, 2, 3, 4, 9, 10, 11, 12, 17, 18}
WINDOW_SEATS = {1, 7, 13, 19, 6, 12, 18, 24}
QUIET_SEATS = {19, 20, 21, 22, 23, 24}


def seed(session: Session, *, now: datetime) -> list[DemoLogin]:
    """Create the demo centre unless it exists; return the demo logins to print."""
    site = session.scalar(select(Site).where(Site.slug == SITE_SLUG))
    if site is None:
        site = Site(
            slug=SITE_SLUG,
            name_zh="新华社区邻里中心",
            name_en="Xinhua Neighbourhood Centre",
            timezone="Asia/Shanghai",
            opens_at=time(8, 0),
            closes_at=time(21, 0),
        )
        session.add(site)
        session.flush()
        seed_spaces(session, site)
        seed_tools(session, site)
        for name, phone, pin, card, elderly, alone in DEMO_RESIDENTS:
            residents.register_resident(
                session,
                site_id=site.id,
                name=name,
                phone=phone,
                pin=pin,
                now=now,
                card_id=card,
                is_elderly=elderly,
                lives_alone=alone,
            )
        for username, display, password, role in DEMO_STAFF:
            staff.create_staff(
                session,
                site_id=site.id,
                username=username,
                display_name=display,
                password=password,
                role=role,
                now=now,
            )
    _seed_health_consent(session, site, now)
    logins = [
        DemoLogin(f"resident {name}", phone, pin) for name, phone, pin, *_ in DEMO_RESIDENTS[:2]
    ]
    logins += [
        DemoLogin(f"{role.value} {display}", username, pw)
        for username, display, pw, role in DEMO_STAFF
    ]
    return logins


# Residents who agreed to keep their blood-pressure readings (on paper, at registration).
HEALTH_CONSENTS = ("13800000001",)


def _seed_health_consent(session: Session, site: Site, now: datetime) -> None:
    """Consent for the demo residents who have never had a consent record: one who later
    withdrew is not signed up again by seeding twice."""
    for phone in HEALTH_CONSENTS:
        resident = session.scalar(select(Resident).where(Resident.phone == phone))
        if resident is None:
            continue
        ever = session.scalar(
            select(HealthConsent.id).where(HealthConsent.resident_id == resident.id).limit(1)
        )
        if ever is None:
            health_consent.give_consent(
                session,
                resident_id=resident.id,
                site_id=site.id,
                channel=ConsentChannel.PAPER,
                now=now,
                actor="system:demo",
            )


def seed_spaces(session: Session, site: Site) -> None:
    study = Space(
        site_id=site.id,
        code="study",
        kind=SpaceKind.STUDY,
        name_zh="自习室",
        name_en="Study room",
        capacity=STUDY_SEATS,
    )
    for number in range(1, STUDY_SEATS + 1):
        study.seats.append(
            Seat(
                number=number,
                has_power=number in POWER_SEATS,
                by_window=number in WINDOW_SEATS,
                quiet_zone=number in QUIET_SEATS,
                map_row=(number - 1) // 6,
                map_col=(number - 1) % 6,
            )
        )
    session.add(study)
    for code, zh, en, capacity, approval in ACTIVITY_ROOMS:
        session.add(
            Space(
                site_id=site.id,
                code=code,
                kind=SpaceKind.ACTIVITY,
                name_zh=zh,
                name_en=en,
                capacity=capacity,
                needs_approval=approval,
            )
        )


def seed_tools(
    session: Session, site: Site, *, tag_prefix: str = SITE_SLUG, lockers: tuple[str, ...] = LOCKERS
) -> None:
    """The tool fleet: each of ``lockers`` (device ids) filled as :data:`LOCKER_LAYOUT` fills
    the demo's two, the rest at the counter; asset tags begin with ``tag_prefix``."""
    types: dict[str, ToolType] = {}
    for code, zh, en, days, icon in TOOL_TYPES:
        note_zh, note_en = SAFETY_NOTES.get(code, ("", ""))
        types[code] = ToolType(
            site_id=site.id, code=code, name_zh=zh, name_en=en, loan_days=days, icon=icon,
            safety_note_zh=note_zh, safety_note_en=note_en,
        )  # fmt: skip
        session.add(types[code])
    session.flush()
    serial: dict[str, int] = {}

    def tag(code: str) -> str:
        serial[code] = serial.get(code, 0) + 1
        return f"{tag_prefix.upper()}-{code.upper()}-{serial[code]:03d}"

    for locker, layout in zip(lockers, LOCKER_LAYOUT.values(), strict=True):
        for compartment, code in enumerate(layout, start=1):
            session.add(
                Item(
                    site_id=site.id,
                    tool_type_id=types[code].id,
                    asset_tag=tag(code),
                    locker_device_id=locker,
                    compartment=compartment,
                )
            )
    for code in COUNTER_ITEMS:
        session.add(Item(site_id=site.id, tool_type_id=types[code].id, asset_tag=tag(code)))
