"""The demo centres' past: weeks of finished bookings, then (``booking.demo.history``) past
loans, readings and classes, so the console's insights show something in ``make demo``, and
the district overview's weekly trends have centres of different sizes to compare in
``make demo DISTRICT=1``."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.models.sites import Site
from booking.demo import district as demo_district
from booking.demo import history as demo_history
from booking.demo.centre import HEALTH_CONSENTS, SITE_SLUG
from booking.demo.district import DemoCentre
from booking.messages import sending
from booking.messages.models.outbox import MessageState, OutboxMessage
from booking.people import passwords
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffRole
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind

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


@dataclass(frozen=True)
class CentreHistory:
    """How a demo centre's past differs from the first's: its history residents' phones (a
    format of one number), how busy it is against the first, the offset of its random seeds,
    and the demo residents who consented. Its staff and terminal are booking.demo.district's."""

    phones: str
    busyness: float
    seed_offset: int
    consenting_phones: tuple[str, ...] = ()


HISTORIES = {
    SITE_SLUG: CentreHistory(HISTORY_PHONES, 1.0, 0, HEALTH_CONSENTS),
    # The district demo's other two centres, smaller than the first.
    "hongqiao": CentreHistory("1390001{:04d}", 0.6, 10),
    "jiangning": CentreHistory("1390002{:04d}", 0.35, 20),
}


def seed_history(session: Session, *, now: datetime) -> int:
    """Weeks of finished bookings before this week at every demo centre there is, so the
    console's insights show something in ``make demo``; returns how many bookings it added
    (0 when the history is there).

    Booked by 30 extra residents of each centre (at the first, phones 13900000001…), each at
    most once per time slot. Every booking is finished (completed, no-show, cancelled,
    rejected), so no job acts on it; no-shows carry no strikes, so nobody starts the demo
    suspended. Seeded random: the same pattern on every machine, dated back from ``now``.
    """
    added = 0
    for centre in demo_district.CENTRES:
        site = session.scalar(select(Site).where(Site.slug == centre.slug))
        if site is not None:
            added += _seed_centre_history(session, site, centre, now)
    _history_messages_went_out(session, now)
    return added


def _history_messages_went_out(session: Session, now: datetime) -> None:
    """The history was lived: what it told residents (an overdue tool, a no-show) went out
    when it was written, as the worker would have sent it. Left queued, the demo's first
    round dropped each as too old to send, with an alert to staff for every one."""
    stale = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.state == MessageState.QUEUED,
            OutboxMessage.created_at <= now - sending.MAX_AGE,
        )
    )
    for message in stale:
        message.start_sending(message.created_at)
        message.mark_sent(message.created_at, "demo-history")


def _seed_centre_history(session: Session, site: Site, centre: DemoCentre, now: datetime) -> int:
    history = HISTORIES[centre.slug]
    zone = ZoneInfo(site.timezone)
    this_monday = now.astimezone(zone).date() - timedelta(days=now.astimezone(zone).weekday())
    if session.scalar(select(Resident.id).where(Resident.phone == history.phones.format(1))):
        _seed_lending_and_health(session, site, centre, this_monday, now)  # each idempotent
        return 0
    rng = random.Random(HISTORY_SEED + history.seed_offset)
    # The history's residents are extras who never sign in: one argon2 hash of one PIN serves
    # them all, where thirty hashes cost up to half a minute of the demo's start.
    shared_pin_hash = passwords.hash_secret(HISTORY_PIN)
    joined = now - timedelta(weeks=HISTORY_WEEKS + 1)
    people = []
    for n in range(1, HISTORY_RESIDENTS + 1):
        extra = Resident(
            name=rng.choice(HISTORY_SURNAMES) + "".join(rng.sample(HISTORY_GIVEN, 2)),
            phone=history.phones.format(n),
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
            share = (weekend_share if weekend else weekday_share) * history.busyness
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
                if rng.random() < demand * history.busyness * (1.2 if weekend else 1):
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
    _seed_lending_and_health(session, site, centre, this_monday, now)
    return added


def _seed_lending_and_health(
    session: Session, site: Site, centre: DemoCentre, this_monday: date, now: datetime
) -> None:
    """Past loans, blood-pressure readings and the weekly classes (``booking.demo.history``),
    lent and followed up by the centre's community worker, measured on its terminal."""
    history = HISTORIES[centre.slug]
    phones = [history.phones.format(n) for n in range(1, HISTORY_RESIDENTS + 1)]
    people = list(
        session.scalars(
            select(Resident.id).where(Resident.phone.in_(phones)).order_by(Resident.phone)
        )
    )
    demo_history.seed(
        session,
        site=site,
        people=people,
        consenting_phones=history.consenting_phones,
        this_monday=this_monday,
        now=now,
        worker=next(user for user, _name, _pw, role in centre.staff if role is StaffRole.STAFF),
        bp_terminal=centre.bp_terminals[0],
        seed=demo_history.SEED + history.seed_offset,
        busyness=history.busyness,
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
