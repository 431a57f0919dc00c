"""The demo centre that `make demo` seeds: the one our users know.

Idempotent: seeding twice changes nothing the second time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.models.sites import Site
from booking.demo import history as demo_history
from booking.health import operations as health
from booking.health.models.readings import ConsentChannel, HealthConsent
from booking.lending.models.tools import Item, ToolType
from booking.people import passwords, residents, staff
from booking.people.models.residents import Resident, ResidentMembership
from booking.people.models.staff import StaffRole
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.spaces import Seat, Space, SpaceKind

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
    ("王秀英", "13800000001", "1234", "CARD0001", True, True),
    ("李建国", "13800000002", "2345", "CARD0002", True, False),
    ("张伟", "13800000003", "3456", None, False, False),
    ("陈静", "13800000004", "4567", "CARD0004", False, False),
    ("刘桂兰", "13800000005", "5678", "CARD0005", True, False),
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
        _seed_spaces(session, site)
        _seed_tools(session, site)
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
            health.give_consent(
                session,
                resident_id=resident.id,
                site_id=site.id,
                channel=ConsentChannel.PAPER,
                now=now,
                actor="system:demo",
            )


def _seed_spaces(session: Session, site: Site) -> None:
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


def _seed_tools(session: Session, site: Site) -> None:
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
        return f"{SITE_SLUG.upper()}-{code.upper()}-{serial[code]:03d}"

    for locker, layout in LOCKER_LAYOUT.items():
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


# --- history for the insight charts -------------------------------------------------------------

HISTORY_WEEKS = 8
HISTORY_SEED = 20261124  # fixed, so every machine gets the same history
HISTORY_SURNAMES = "赵钱孙周吴郑冯陈褚卫蒋沈韩杨朱秦许何吕施"
HISTORY_GIVEN = ("明", "华", "芳", "军", "丽", "强", "敏", "磊", "洋", "婷", "杰", "涛", "霞")
HISTORY_RESIDENTS = 30
HISTORY_PHONES = "1390000{:04d}"
HISTORY_PIN = "246810"
# Study seats: (first start, last start, end by, share of seats booked on weekdays, at
# weekends); the slots never overlap, so no seat or resident is booked twice at once.
SEAT_SLOTS = (
    (8, 10.5, 12, 0.35, 0.6),
    (13, 16, 17.5, 0.45, 0.75),
    (18, 20, 21, 0.6, 0.5),
)
# Activity rooms: the chance of a booking in each half-day on a given day.
ROOM_DEMAND = {"dance": 0.7, "table-tennis": 0.5, "calligraphy": 0.35, "meeting": 0.2}


def seed_history(session: Session, *, now: datetime) -> int:
    """Weeks of finished bookings before this week, so the console's insights show something
    in ``make demo``; returns how many bookings it added (0 when the history is there).

    Booked by 30 extra residents (phones 13900000001…), each at most once per time slot.
    Every booking is finished (completed, no-show, cancelled, rejected), so no job acts on
    it; no-shows carry no strikes, so nobody starts the demo suspended. Seeded random:
    the same pattern on every machine, dated back from ``now``.
    """
    site = session.scalar(select(Site).where(Site.slug == SITE_SLUG))
    if site is None:
        return 0
    zone = ZoneInfo(site.timezone)
    this_monday = now.astimezone(zone).date() - timedelta(days=now.astimezone(zone).weekday())
    if session.scalar(select(Resident.id).where(Resident.phone == HISTORY_PHONES.format(1))):
        _seed_lending_and_health(session, site, this_monday, now)  # each part idempotent
        return 0
    rng = random.Random(HISTORY_SEED)
    # The history's residents are extras who never sign in: one argon2 hash of one PIN serves
    # them all, where thirty hashes cost up to half a minute of the demo's start.
    shared_pin_hash = passwords.hash_secret(HISTORY_PIN)
    joined = now - timedelta(weeks=HISTORY_WEEKS + 1)
    people = []
    for n in range(1, HISTORY_RESIDENTS + 1):
        extra = Resident(
            name=rng.choice(HISTORY_SURNAMES) + "".join(rng.sample(HISTORY_GIVEN, 2)),
            phone=HISTORY_PHONES.format(n),
            pin_hash=shared_pin_hash,
            is_elderly=rng.random() < 0.4,
            lives_alone=rng.random() < 0.2,
            created_at=joined,
        )
        extra.memberships.append(ResidentMembership(site_id=site.id, joined_at=joined))
        session.add(extra)
        session.flush()
        people.append(extra.id)
    study = session.scalar(select(Space).where(Space.site_id == site.id, Space.code == "study"))
    rooms = {
        space.code: space
        for space in session.scalars(
            select(Space).where(Space.site_id == site.id, Space.kind == SpaceKind.ACTIVITY)
        )
    }
    assert study is not None
    added = 0
    for offset in range(7 * HISTORY_WEEKS, 0, -1):
        day = this_monday - timedelta(days=offset)
        weekend = day.weekday() >= 5
        midnight = datetime.combine(day, time(0), tzinfo=zone)

        def at(hour: float, midnight: datetime = midnight) -> datetime:
            return (midnight + timedelta(hours=hour)).astimezone(ZoneInfo("UTC"))

        for first, last, end_by, weekday_share, weekend_share in SEAT_SLOTS:
            share = weekend_share if weekend else weekday_share
            taken = round(len(study.seats) * share * rng.uniform(0.7, 1.2))
            taken = min(taken, len(study.seats), len(people))
            for seat, person in zip(
                rng.sample(study.seats, taken), rng.sample(people, taken), strict=True
            ):
                starts = first + rng.randrange(int((last - first) * 2) + 1) / 2
                hours = rng.choice((1, 1.5, 2, 2, 3))
                session.add(
                    _history_booking(
                        rng, site, study, seat, person, at(starts), at(min(starts + hours, end_by))
                    )
                )
                added += 1
        for code, demand in ROOM_DEMAND.items():
            for first in (9, 14):
                if rng.random() < demand * (1.2 if weekend else 1):
                    session.add(
                        _history_booking(
                            rng,
                            site,
                            rooms[code],
                            None,
                            rng.choice(people),
                            at(first),
                            at(first + 2),
                            needs_approval=rooms[code].needs_approval,
                        )
                    )
                    added += 1
    session.flush()
    _seed_lending_and_health(session, site, this_monday, now)
    return added


def _seed_lending_and_health(
    session: Session, site: Site, this_monday: date, now: datetime
) -> None:
    """Past loans, blood-pressure readings and the weekly classes (``booking.demo.history``)."""
    people = list(
        session.scalars(
            select(Resident.id)
            .where(Resident.phone.in_([HISTORY_PHONES.format(n) for n in range(1, HISTORY_RESIDENTS + 1)]))
            .order_by(Resident.phone)
        )
    )
    demo_history.seed(
        session,
        site=site,
        people=people,
        consenting_phones=HEALTH_CONSENTS,
        this_monday=this_monday,
        now=now,
    )


def _history_booking(
    rng: random.Random,
    site: Site,
    space: Space,
    seat: Seat | None,
    resident_id: int,
    starts: datetime,
    ends: datetime,
    *,
    needs_approval: bool = False,
) -> Booking:
    roll = rng.random()
    booking = Booking(
        site_id=site.id,
        space_id=space.id,
        seat_id=seat.id if seat is not None else None,
        resident_id=resident_id,
        starts_at=starts,
        ends_at=ends,
        created_at=starts - timedelta(days=rng.randrange(1, 6)),
        purpose="" if seat is not None else "活动",
        # A past booking is made in the state it ended in: it never lived through the
        # transitions, so it is constructed there rather than moved.
        status=_past_status(roll, needs_approval=needs_approval, is_seat=seat is not None),
    )
    if booking.status is BookingStatus.CANCELLED:
        booking.finished_at = booking.created_at + timedelta(hours=2)
    elif booking.status is BookingStatus.REJECTED:
        booking.decided_at = booking.created_at + timedelta(hours=3)
    elif booking.status is BookingStatus.NO_SHOW:
        booking.finished_at = starts + timedelta(minutes=15)
    else:
        booking.checked_in_at = starts + timedelta(minutes=rng.randrange(-5, 10))
        left_early = seat is not None and rng.random() < 0.2
        booking.finished_at = ends - timedelta(minutes=30) if left_early else ends
    return booking


def _past_status(roll: float, *, needs_approval: bool, is_seat: bool) -> BookingStatus:
    """How a past booking ended, by one roll of the dice (the shares of a real centre)."""
    if roll < 0.08:
        return BookingStatus.CANCELLED
    if needs_approval and roll < 0.2:
        return BookingStatus.REJECTED
    if is_seat and roll < 0.17:
        return BookingStatus.NO_SHOW
    return BookingStatus.COMPLETED
