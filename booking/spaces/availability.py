"""Which seats are free, and when a room is busy: the read side of booking, kept to a fixed
number of queries so that a kiosk or API client can ask often."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import attrgetter
from typing import NamedTuple

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, selectinload

from booking.core.db import UTCDateTime
from booking.core.driver_sql import DriverStatement, json_rows
from booking.core.errors import InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking
from booking.spaces.models.closures import Closure
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind

MAX_PERIOD = timedelta(days=1)
# Every booking lies inside one local day's opening hours (``booking_rules.check_period``;
# walk-ins end by closing time; closures only shorten), so none is longer than a day (25
# hours allows a daylight-saving day). Bounding the start from below lets the
# (seat_id, starts_at) index skip the months of finished bookings before the period.
LONGEST_BOOKING = timedelta(hours=25)


class SeatState(NamedTuple):
    """A seat's features (plain values: read often, never changed through this) and whether
    it is free. A named tuple: a room's worth is made on every availability request, and a
    frozen dataclass took four times as long to make."""

    id: int
    number: int
    has_power: bool
    by_window: bool
    quiet_zone: bool
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


# Built once and run on the driver's cursor: the API asks this all day (rebuilding the
# query was a third of its time, SQLAlchemy's execution of the cached one a sixth: measured).
# One row, the room's seats as JSON: on SQLite every row fetched is a thread switch under
# gunicorn (booking.core.driver_sql.json_rows).
_SEAT_STATES = DriverStatement(
    select(
        json_rows(
            Seat.id,
            Seat.number,
            Seat.has_power,
            Seat.by_window,
            Seat.quiet_zone,
            exists().where(
                Booking.seat_id == Seat.id,
                Booking.starts_at > bindparam("earliest_start", type_=UTCDateTime),
                Booking.starts_at < bindparam("ends_at", type_=UTCDateTime),
                Booking.ends_at > bindparam("starts_at", type_=UTCDateTime),
                # Not in_(): its expanding parameter rewrites the SQL on every execution.
                or_(*(Booking.status == status for status in sorted(ACTIVE_STATUSES))),
            ),
        )
    )
    .join(Space, Space.id == Seat.space_id)
    .where(
        Space.id == bindparam("space_id"),
        Space.site_id == bindparam("site_id"),
        Space.kind == SpaceKind.STUDY,
    )
)


_BY_NUMBER = attrgetter("number")

# Whether a study room of the site exists (asked only when it has no seats).
_STUDY_ROOM = select(Space.id).where(
    Space.id == bindparam("space_id"),
    Space.site_id == bindparam("site_id"),
    Space.kind == SpaceKind.STUDY,
)


def seat_states(
    reads: Session | Connection,
    *,
    site_id: int,
    space_id: int,
    starts_at: datetime,
    ends_at: datetime,
) -> list[SeatState]:
    """Every seat of a study room and whether it is free for the whole period, by number.

    One query: the room's seats, each with an EXISTS for an overlapping active booking that
    the (seat_id, starts_at) index answers; a second only when there are no seats, to tell
    an empty room from a missing one. ``reads`` may be a bare connection (the API's).
    """
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("times must be timezone-aware", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput("the end must come after the start", field="ends_at")
    if ends_at - starts_at > MAX_PERIOD:
        raise InvalidInput("ask about one day at most", field="ends_at")
    # Plain rows, no ORM entities, on the session's connection (bench/api_load.py).
    connection = reads if isinstance(reads, Connection) else reads.connection()
    ((seats,),) = _SEAT_STATES.rows(
        connection,
        {
            "space_id": space_id,
            "site_id": site_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "earliest_start": starts_at - LONGEST_BOOKING,
        },
    )
    if (
        not seats
        and not connection.execute(_STUDY_ROOM, {"space_id": space_id, "site_id": site_id}).first()
    ):
        raise NotFound("no such study room")
    # In field order (id, number, has_power, by_window, quiet_zone, free), by number; bool()
    # because SQLite's JSON says 0 and 1.
    return sorted(
        (
            SeatState(seat_id, number, bool(power), bool(window), bool(quiet), not busy)
            for seat_id, number, power, window, quiet, busy in seats or ()
        ),
        key=_BY_NUMBER,
    )


def spaces_in_use(
    session: Session, *, site_id: int, kind: SpaceKind, with_seats: bool = False
) -> list[Space]:
    """The site's spaces of ``kind`` not retired, in the order they were set up;
    ``with_seats``: their seats loaded too, in one more read for them all."""
    query = (
        select(Space)
        .where(Space.site_id == site_id, Space.kind == kind, Space.retired_at.is_(None))
        .order_by(Space.id)
    )
    if with_seats:
        query = query.options(selectinload(Space.seats))
    return list(session.scalars(query))


def room_day(session: Session, *, site_id: int, space_id: int, day: date) -> RoomDay:
    """An activity room's opening hours on a local day and its busy periods (active bookings
    and closures), in time order."""
    space = _space(session, site_id, space_id, SpaceKind.ACTIVITY)
    site = session.get_one(Site, site_id)
    return rooms_day(session, site=site, spaces=[space], day=day)[space.id]


def rooms_day(
    session: Session, *, site: Site, spaces: Sequence[Space], day: date
) -> dict[int, RoomDay]:
    """:func:`room_day` of each of the site's activity rooms ``spaces``, by id, in two reads
    whatever their number (the kiosk's timeline shows every room)."""
    ids = [space.id for space in spaces]
    day_start, day_end = booking_rules.local_day_bounds(site, day)
    busy: dict[int, list[BusyPeriod]] = {space_id: [] for space_id in ids}
    bookings = session.execute(
        select(Booking.space_id, Booking.starts_at, Booking.ends_at, Booking.status).where(
            Booking.space_id.in_(ids),
            Booking.seat_id.is_(None),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at > day_start - LONGEST_BOOKING,
            Booking.starts_at < day_end,
            Booking.ends_at > day_start,
        )
    )
    for space_id, start, end, status in bookings:
        busy[space_id].append(BusyPeriod(start, end, "booking", status.value))
    closures = session.execute(
        select(Closure.space_id, Closure.starts_at, Closure.ends_at).where(
            Closure.site_id == site.id,
            or_(Closure.space_id.is_(None), Closure.space_id.in_(ids)),
            Closure.starts_at < day_end,
            Closure.ends_at > day_start,
        )
    )
    for closed_id, start, end in closures:
        closure = BusyPeriod(max(start, day_start), min(end, day_end), "closure")
        # A closure of no space closes the whole centre: every room.
        for space_id in ids if closed_id is None else [closed_id]:
            busy[space_id].append(closure)
    days = {}
    for space in spaces:
        opens, closes = booking_rules.opening_hours(site, space)
        periods = sorted(busy[space.id], key=lambda period: (period.starts_at, period.kind))
        days[space.id] = RoomDay(
            space=space,
            day=day,
            opens_at=booking_rules.at_local(site, day, opens),
            closes_at=booking_rules.at_local(site, day, closes),
            busy=periods,
        )
    return days
