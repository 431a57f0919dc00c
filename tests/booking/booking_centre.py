"""A small centre to book in: a study room of 4 seats, a dance room and a meeting room that
needs approval; three residents and a staff member. The clock starts on Tuesday
2026-11-24 at 09:30 in Shanghai."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.core import uptime
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.core.models.uptime import ServicePart
from booking.people import residents, staff
from booking.people.models.staff import StaffRole
from booking.spaces import closures, rooms, seats
from booking.spaces.models.bookings import Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    """A wall-clock time in Shanghai, ``days`` after the test's Tuesday, as aware UTC."""
    day = datetime(2026, 11, 24, tzinfo=SHANGHAI) + timedelta(days=days)
    return day.replace(hour=hour, minute=minute).astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class Centre:
    site_id: int
    study_id: int
    seats: tuple[int, ...]
    dance_id: int
    meeting_id: int
    residents: tuple[int, ...]
    staff_id: int


def build_centre(
    database: Database,
    clock: FrozenClock,
    *,
    slug: str = "demo",
    phones_from: int = 1,
    staff_name: str = "zhao",
) -> Centre:
    now = clock.now()
    with database.write() as session:
        site = Site(
            slug=slug, name_zh="演示中心", name_en="Demo", opens_at=time(8), closes_at=time(21)
        )
        session.add(site)
        session.flush()
        study = Space(
            site_id=site.id,
            code="study",
            kind=SpaceKind.STUDY,
            name_zh="自习室",
            name_en="Study room",
            capacity=4,
        )
        study.seats = [Seat(number=n, has_power=n <= 2) for n in range(1, 5)]
        dance = Space(
            site_id=site.id,
            code="dance",
            kind=SpaceKind.ACTIVITY,
            name_zh="舞蹈室",
            name_en="Dance room",
            capacity=20,
        )
        meeting = Space(
            site_id=site.id,
            code="meeting",
            kind=SpaceKind.ACTIVITY,
            name_zh="议事室",
            name_en="Meeting room",
            capacity=16,
            needs_approval=True,
        )
        session.add_all([study, dance, meeting])
        session.flush()
        people = tuple(
            residents.register_resident(
                session, site_id=site.id, name=name, phone=phone, pin="275139", now=now
            ).id
            for name, phone in (
                ("王秀英", f"139{phones_from:08d}"),
                ("李建国", f"139{phones_from + 1:08d}"),
                ("张伟", f"139{phones_from + 2:08d}"),
            )
        )
        worker = staff.create_staff(
            session,
            site_id=site.id,
            username=staff_name,
            display_name="赵敏",
            password="linli-staff-2026",
            role=StaffRole.STAFF,
            now=now,
        )
        return Centre(
            site_id=site.id,
            study_id=study.id,
            seats=tuple(s.id for s in study.seats),
            dance_id=dance.id,
            meeting_id=meeting.id,
            residents=people,
            staff_id=worker.id,
        )


def keep_alive(
    database: Database,
    site_id: int,
    start: datetime,
    end: datetime,
    parts: tuple[ServicePart, ...] = uptime.BEATING_PARTS,
) -> None:
    """Heartbeats of ``parts`` (by default every part the kiosk needs) from ``start`` to
    ``end``, as far apart as still counts as "up" throughout."""
    with database.write() as session:
        for part in parts:
            moment = start
            while moment < end:
                uptime.record_heartbeat(session, site_id=site_id, now=moment, part=part)
                moment += uptime.MAX_GAP
            uptime.record_heartbeat(session, site_id=site_id, now=end, part=part)


def book_room(
    db: Database,
    c: Centre,
    space: int,
    start: datetime,
    end: datetime,
    who: int = 0,
    headcount: int = 5,
) -> Booking:
    """A room booking by resident ``who`` of the centre, made at 09:30 on the first day."""
    with db.write() as session:
        return rooms.book_room(
            session,
            resident_id=c.residents[who],
            space_id=space,
            starts_at=start,
            ends_at=end,
            headcount=headcount,
            now=at(9, 30),
        )


def declare_closure(
    db: Database, c: Centre, start: datetime, end: datetime, reason: str, space: int | None = None
) -> None:
    """The centre's staff member closes ``space``, or the whole centre, at 09:30 on the first day."""
    with db.write() as session:
        closures.declare_closure(
            session,
            staff_id=c.staff_id,
            site_id=c.site_id,
            space_id=space,
            starts_at=start,
            ends_at=end,
            reason=reason,
            now=at(9, 30),
        )


def book_seat(
    db: Database,
    c: Centre,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    who: int = 0,
    seat: int = 0,
) -> Booking:
    """A booking of the centre's ``seat``-th study seat by resident ``who``, made ``now``."""
    with db.write() as session:
        return seats.book_seat(
            session, resident_id=c.residents[who], seat_id=c.seats[seat], starts_at=start,
            ends_at=end, now=now,
        )  # fmt: skip
