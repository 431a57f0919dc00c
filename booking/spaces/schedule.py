"""What a space holds over some days, for the staff calendar: bookings, series, closures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from booking.core.errors import InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.people.models.residents import Resident
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.closures import Closure
from booking.spaces.models.series import BookingSeries
from booking.spaces.models.spaces import Space

# What the calendar shows: what holds the slot, and what happened in it. Cancelled, rejected
# and expired bookings never used the time and would only hide the real ones.
SHOWN_STATUSES = ACTIVE_STATUSES | {
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.RELEASED,
}
MAX_DAYS = 7


@dataclass(frozen=True)
class Entry:
    booking: Booking
    resident: Resident | None  # None for a staff series
    series: BookingSeries | None


@dataclass(frozen=True)
class Schedule:
    site: Site
    space: Space
    days: list[date]
    starts_at: datetime
    ends_at: datetime
    entries: list[Entry]
    closures: list[Closure]

    def entries_on(self, day: date) -> list[Entry]:
        return [
            e
            for e in self.entries
            if booking_rules.local_date(self.site, e.booking.starts_at) == day
        ]

    def closures_on(self, day: date) -> list[Closure]:
        start, end = booking_rules.local_day_bounds(self.site, day)
        return [c for c in self.closures if c.starts_at < end and c.ends_at > start]

    def entries_of_seat(self, seat_id: int) -> list[Entry]:
        return [e for e in self.entries if e.booking.seat_id == seat_id]


def space_schedule(
    session: Session, *, site_id: int, space_id: int, first_day: date, days: int = 1
) -> Schedule:
    """The space's bookings (with resident and series) and closures over ``days`` local days
    from ``first_day``, in three queries whatever their number."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"1 to {MAX_DAYS} days", field="days")
    space = session.get(Space, space_id)
    if space is None or space.site_id != site_id:
        raise NotFound("no such space")
    site = session.get_one(Site, site_id)
    starts_at, _ = booking_rules.local_day_bounds(site, first_day)
    _, ends_at = booking_rules.local_day_bounds(site, first_day + timedelta(days=days - 1))
    series = aliased(BookingSeries)
    rows = session.execute(
        select(Booking, Resident, series)
        .outerjoin(Resident, Resident.id == Booking.resident_id)
        .outerjoin(series, series.id == Booking.series_id)
        .where(
            Booking.space_id == space.id,
            Booking.status.in_(SHOWN_STATUSES),
            Booking.starts_at < ends_at,
            Booking.ends_at > starts_at,
        )
        .order_by(Booking.starts_at, Booking.seat_id, Booking.id)
    )
    entries = [Entry(booking, resident, found) for booking, resident, found in rows]
    closures = list(
        session.scalars(
            select(Closure)
            .where(
                Closure.site_id == site_id,
                or_(Closure.space_id.is_(None), Closure.space_id == space.id),
                Closure.starts_at < ends_at,
                Closure.ends_at > starts_at,
            )
            .order_by(Closure.starts_at)
        )
    )
    return Schedule(
        site=site,
        space=space,
        days=[first_day + timedelta(days=n) for n in range(days)],
        starts_at=starts_at,
        ends_at=ends_at,
        entries=entries,
        closures=closures,
    )


def spaces_of(session: Session, *, site_id: int) -> list[Space]:
    """The site's bookable spaces (not retired): study rooms first, then activity rooms."""
    return list(
        session.scalars(
            select(Space)
            .where(Space.site_id == site_id, Space.retired_at.is_(None))
            .order_by(Space.kind.desc(), Space.code)
        )
    )


def pending_approvals(
    session: Session, *, site_id: int
) -> list[tuple[Booking, Resident | None, Space]]:
    """Bookings waiting for staff approval, soonest first, with resident and room (one query)."""
    return [
        (booking, resident, space)
        for booking, resident, space in session.execute(
            select(Booking, Resident, Space)
            .join(Space, Space.id == Booking.space_id)
            .outerjoin(Resident, Resident.id == Booking.resident_id)
            .where(Booking.site_id == site_id, Booking.status == BookingStatus.PENDING)
            .order_by(Booking.starts_at, Booking.id)
        )
    ]
