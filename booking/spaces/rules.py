"""The rules a seat or room booking must pass, and the site-local time they are stated in.

Days, opening hours and the 30-minute grid are the site's wall clock (Asia/Shanghai);
everything stored and compared is aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from booking.core.errors import (
    BookingTooLong,
    DailyLimitReached,
    InvalidInput,
    NotFound,
    OffGrid,
    OutsideBookingWindow,
    OutsideOpeningHours,
    OverCapacity,
    ResidentBusy,
    SpaceClosed,
    SpaceRetired,
)
from booking.core.models.sites import Site
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.spaces import strikes
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.closures import Closure
from booking.spaces.models.space_rules import SpaceRules
from booking.spaces.models.spaces import Space, SpaceKind


@dataclass(frozen=True)
class Rules:
    """A space's booking rules. The defaults are those of a study room."""

    bookable_days: int = 2  # today and tomorrow
    grid_minutes: int = 30
    max_booking_minutes: int = 240
    max_minutes_per_day: int | None = 480  # per resident, seats only
    check_in_early_minutes: int = 15
    check_in_late_minutes: int = 15
    max_leave_minutes: int = 30
    strikes_to_suspend: int = 3
    strike_window_days: int = 30
    suspension_days: int = 7
    offer_minutes: int = 30  # how long a waitlist offer is held

    @property
    def grid(self) -> timedelta:
        return timedelta(minutes=self.grid_minutes)


STUDY_DEFAULTS = Rules()
# Groups plan ahead, and a room has no per-resident daily cap.
ACTIVITY_DEFAULTS = Rules(bookable_days=14, max_minutes_per_day=None)

# Booked time that counts towards the daily cap: what is held now and what was used.
COUNTED_STATUSES = ACTIVE_STATUSES | {BookingStatus.COMPLETED}


def check_in_window(booking: Booking, rules: Rules) -> tuple[datetime, datetime]:
    """When a seat booking can be checked in: from before its start until after it. A booking
    made once its slot was under way gets the same minutes to come from when it was made:
    timed from the start, a seat booked at 08:59 for 08:30 closed its check-in at 08:45,
    before it existed, and became a no-show with a strike a minute later."""
    return (
        booking.starts_at - timedelta(minutes=rules.check_in_early_minutes),
        max(booking.starts_at, booking.created_at) + timedelta(minutes=rules.check_in_late_minutes),
    )


def rules_for(session: Session, space: Space) -> Rules:
    """The space's rules: its ``space_rules`` row where set, the defaults of its kind elsewhere."""
    return rules_from(space, session.get(SpaceRules, space.id))


def rules_of(session: Session, spaces: Sequence[Space]) -> dict[int, Rules]:
    """:func:`rules_for` of each of ``spaces``, by id, in one read (a page of every room)."""
    rows = {
        row.space_id: row
        for row in session.scalars(
            select(SpaceRules).where(SpaceRules.space_id.in_([space.id for space in spaces]))
        )
    }
    return {space.id: rules_from(space, rows.get(space.id)) for space in spaces}


def rules_from(space: Space, row: SpaceRules | None) -> Rules:
    """The space's rules from its ``space_rules`` row (None: the defaults of its kind), for a
    caller that loaded the rows of many spaces at once."""
    base = STUDY_DEFAULTS if space.kind is SpaceKind.STUDY else ACTIVITY_DEFAULTS
    if row is None:
        return base
    overrides = {f.name: getattr(row, f.name) for f in fields(Rules)}
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


# --- site-local time ---------------------------------------------------------------------------


def zone(site: Site) -> ZoneInfo:
    return ZoneInfo(site.timezone)


def local_date(site: Site, moment: datetime) -> date:
    return moment.astimezone(zone(site)).date()


def at_local(site: Site, day: date, wall: time) -> datetime:
    """The UTC moment of a wall-clock time on a local day at the site."""
    return datetime.combine(day, wall, tzinfo=zone(site)).astimezone(ZoneInfo("UTC"))


def local_day_bounds(site: Site, day: date) -> tuple[datetime, datetime]:
    return at_local(site, day, time(0)), at_local(site, day + timedelta(days=1), time(0))


def floor_to_grid(site: Site, rules: Rules, moment: datetime) -> datetime:
    local = moment.astimezone(zone(site))
    minute = local.minute - local.minute % rules.grid_minutes
    return local.replace(minute=minute, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))


def opening_hours(site: Site, space: Space) -> tuple[time, time]:
    return space.opens_at or site.opens_at, space.closes_at or site.closes_at


# --- lookups -----------------------------------------------------------------------------------


def member(session: Session, resident_id: int, site_id: int) -> Resident:
    """The resident, if an active member of the site; anyone else (a deactivated account
    too) does not exist here."""
    resident = session.scalar(
        select(Resident)
        .join(ResidentMembership)
        .where(
            Resident.id == resident_id,
            Resident.deactivated_at.is_(None),
            ResidentMembership.site_id == site_id,
        )
    )
    if resident is None:
        raise NotFound("no such resident at this centre")
    return resident


def closure_over(
    session: Session, *, site_id: int, space_id: int, starts_at: datetime, ends_at: datetime
) -> Closure | None:
    """A closure of the space, or of the whole site, overlapping the period."""
    return session.scalar(
        select(Closure)
        .where(
            Closure.site_id == site_id,
            or_(Closure.space_id.is_(None), Closure.space_id == space_id),
            Closure.starts_at < ends_at,
            Closure.ends_at > starts_at,
        )
        .order_by(Closure.starts_at)
        .limit(1)
    )


# --- the checks ---------------------------------------------------------------------------------


def check_not_retired(space: Space) -> None:
    """A space an admin retired takes no new bookings (its past ones stay)."""
    if space.retired_at is not None:
        raise SpaceRetired("the space is no longer in use", space_id=space.id)


def check_period(
    session: Session,
    *,
    site: Site,
    space: Space,
    rules: Rules,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    within_window: bool = True,
    check_closures: bool = True,
) -> None:
    """Grid, opening hours, length, closures and (for residents) how far ahead."""
    check_not_retired(space)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise InvalidInput("times must be timezone-aware", field="starts_at")
    if ends_at <= starts_at:
        raise InvalidInput("the end must come after the start", field="ends_at")
    for moment in (starts_at, ends_at):
        if floor_to_grid(site, rules, moment) != moment:
            raise OffGrid(
                f"bookings start and end on the {rules.grid_minutes}-minute grid",
                grid_minutes=rules.grid_minutes,
            )
    if ends_at - starts_at > timedelta(minutes=rules.max_booking_minutes):
        raise BookingTooLong(
            f"at most {rules.max_booking_minutes} minutes per booking",
            max_minutes=rules.max_booking_minutes,
        )
    day = local_date(site, starts_at)
    opens, closes = opening_hours(site, space)
    if starts_at < at_local(site, day, opens) or ends_at > at_local(site, day, closes):
        raise OutsideOpeningHours(
            f"open {opens:%H:%M}–{closes:%H:%M}", opens_at=opens, closes_at=closes
        )
    if within_window:
        # The slot under way may still be booked: it is the "sit down now" of a planned booking.
        if starts_at < floor_to_grid(site, rules, now):
            raise OutsideBookingWindow("that time is over")
        last_day = local_date(site, now) + timedelta(days=rules.bookable_days - 1)
        if day > last_day:
            raise OutsideBookingWindow(
                f"bookable {rules.bookable_days} days ahead", last_day=last_day
            )
    if not check_closures:
        return
    closure = closure_over(
        session, site_id=site.id, space_id=space.id, starts_at=starts_at, ends_at=ends_at
    )
    if closure is not None:
        raise SpaceClosed(closure.reason, closure_id=closure.id)


def check_seat_holder(
    session: Session,
    *,
    site: Site,
    rules: Rules,
    resident_id: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    ignore_booking_id: int | None = None,
) -> None:
    """Whether this resident may hold a seat then: not suspended, not already seated
    elsewhere (at any centre of the deployment: one person sits in one place), and within
    this centre's daily cap."""
    strikes.ensure_not_suspended(session, resident_id=resident_id, site_id=site.id, now=now)
    day_start, day_end = local_day_bounds(site, local_date(site, starts_at))
    theirs = session.scalars(
        select(Booking).where(
            Booking.resident_id == resident_id,
            Booking.seat_id.is_not(None),
            Booking.status.in_(COUNTED_STATUSES),
            Booking.starts_at < max(day_end, ends_at),
            Booking.ends_at > min(day_start, starts_at),
        )
    ).all()
    used = timedelta()
    for booking in theirs:
        if booking.id == ignore_booking_id:
            continue
        if (
            booking.status in ACTIVE_STATUSES
            and booking.starts_at < ends_at
            and booking.ends_at > starts_at
        ):
            raise ResidentBusy("you already have a seat at that time", booking_id=booking.id)
        if booking.site_id != site.id:
            continue  # each centre's cap is its own
        used += max(timedelta(), min(booking.ends_at, day_end) - max(booking.starts_at, day_start))
    if rules.max_minutes_per_day is not None:
        wanted = min(ends_at, day_end) - max(starts_at, day_start)
        if used + wanted > timedelta(minutes=rules.max_minutes_per_day):
            left = max(timedelta(), timedelta(minutes=rules.max_minutes_per_day) - used)
            raise DailyLimitReached(
                f"at most {rules.max_minutes_per_day} minutes of seats a day",
                minutes_left=int(left.total_seconds() // 60),
            )


def check_headcount(space: Space, headcount: int) -> None:
    if headcount < 1:
        raise InvalidInput("a group has at least one person", field="headcount")
    if headcount > space.capacity:
        raise OverCapacity(f"the room holds {space.capacity}", capacity=space.capacity)
