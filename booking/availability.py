"""Which seats are free, and when a room is busy: the read side of booking, kept to a fixed
number of queries so that a kiosk or API client can ask often."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from booking import booking_rules
from booking.errors import InvalidInput, NotFound
from booking.models import ACTIVE_STATUSES, Booking, Closure, Seat, Site, Space, SpaceKind

MAX_PERIOD = timedelta(days=1)


@dataclass(frozen=True)
class SeatState:
    seat: Seat
    free: bool


@dataclass(frozen=True)
class BusyPeriod:
    starts_at: datetime
    ends_at: datetime
    kind: str  # "booking" or "closure"
    status: str | None = None  # the booking's status, None for a closure


@dataclass(frozen=True)
class RoomDay:
    space: Space
    day: date
    opens_at: datetime
    closes_at: datetime
    busy: list[BusyPeriod]


def _space(session: Session, site_id: int, space_id: int, kind: SpaceKind) -> Space:
    space = session.get(Space, space_id)
    if space is None or space.site_id != site_id or space.kind is not kind:
        raise NotFound("no such study room" if kind is SpaceKind.STUDY else "no such room")
    return space


def seat_states(
    session: Session, *, site_id: int, space_id: int, starts_at: datetime, ends_at: datetime
) -> list[SeatState]:
    """Every seat of a study room and whether it is free for the whole period, by number.

    Two queries: the room, then its seats each with an EXISTS for an overlapping active
    booking (the ``ix_bookings_seat_period`` index answers it).
    """
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("times must be timezone-aware", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput("the end must come after the start", field="ends_at")
    if ends_at - starts_at > MAX_PERIOD:
        raise InvalidInput("ask about one day at most", field="ends_at")
    space = _space(session, site_id, space_id, SpaceKind.STUDY)
    taken = exists().where(
        Booking.seat_id == Seat.id,
        Booking.status.in_(ACTIVE_STATUSES),
        Booking.starts_at < ends_at,
        Booking.ends_at > starts_at,
    )
    rows = session.execute(
        select(Seat, taken).where(Seat.space_id == space.id).order_by(Seat.number)
    )
    return [SeatState(seat, not busy) for seat, busy in rows]


def room_day(session: Session, *, site_id: int, space_id: int, day: date) -> RoomDay:
    """An activity room's opening hours on a local day and its busy periods (active bookings
    and closures), in time order."""
    space = _space(session, site_id, space_id, SpaceKind.ACTIVITY)
    site = session.get_one(Site, site_id)
    opens, closes = booking_rules.opening_hours(site, space)
    day_start, day_end = booking_rules.local_day_bounds(site, day)
    bookings = session.execute(
        select(Booking.starts_at, Booking.ends_at, Booking.status).where(
            Booking.space_id == space.id,
            Booking.seat_id.is_(None),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < day_end,
            Booking.ends_at > day_start,
        )
    )
    busy = [BusyPeriod(start, end, "booking", status.value) for start, end, status in bookings]
    closures = session.execute(
        select(Closure.starts_at, Closure.ends_at).where(
            Closure.site_id == site_id,
            or_(Closure.space_id.is_(None), Closure.space_id == space.id),
            Closure.starts_at < day_end,
            Closure.ends_at > day_start,
        )
    )
    busy += [
        BusyPeriod(max(start, day_start), min(end, day_end), "closure") for start, end in closures
    ]
    busy.sort(key=lambda period: (period.starts_at, period.kind))
    return RoomDay(
        space=space,
        day=day,
        opens_at=booking_rules.at_local(site, day, opens),
        closes_at=booking_rules.at_local(site, day, closes),
        busy=busy,
    )
