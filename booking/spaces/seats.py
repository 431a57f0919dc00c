"""Study seats: book, sit down now, check in, step out, come back, leave, cancel."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import (
    CheckInClosed,
    CheckInTooEarly,
    InvalidInput,
    LeaveExpired,
    NotFound,
    OutsideOpeningHours,
    SlotTaken,
    SpaceClosed,
    WrongBookingState,
)
from booking.core.models.sites import Site
from booking.spaces import occupancy, releases
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind

# A walk-in shorter than this is not worth sitting down for.
MIN_WALK_IN = timedelta(minutes=15)

cancel = releases.cancel


def _seat_context(session: Session, seat_id: int) -> tuple[Seat, Space, Site]:
    seat = session.get(Seat, seat_id)
    if seat is None:
        raise NotFound("no such seat")
    space = session.get_one(Space, seat.space_id)
    if space.kind is not SpaceKind.STUDY:
        raise InvalidInput("not a study seat", field="seat_id")
    return seat, space, session.get_one(Site, space.site_id)


def book_seat(
    session: Session,
    *,
    resident_id: int,
    seat_id: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
) -> Booking:
    """Book a seat for a period on the grid, today or tomorrow, within opening hours."""
    seat, space, site = _seat_context(session, seat_id)
    booking_rules.member(session, resident_id, site.id)
    rules = booking_rules.rules_for(session, space)
    booking_rules.check_period(
        session, site=site, space=space, rules=rules, starts_at=starts_at, ends_at=ends_at, now=now
    )
    occupancy.lock_resident(session, resident_id)
    return _take_seat(
        session,
        seat,
        site=site,
        rules=rules,
        resident_id=resident_id,
        starts_at=starts_at,
        ends_at=ends_at,
        now=now,
    )


def _take_seat(
    session: Session,
    seat: Seat,
    *,
    site: Site,
    rules: booking_rules.Rules,
    resident_id: int,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    walk_in: bool = False,
) -> Booking:
    """Check the resident's quotas and suspension, then take the seat (the resident's row is
    already locked, so two kiosks cannot both pass the daily quota). A walk-in sits down at
    once: the booking starts checked in."""
    booking_rules.check_seat_holder(
        session,
        site=site,
        rules=rules,
        resident_id=resident_id,
        starts_at=starts_at,
        ends_at=ends_at,
        now=now,
    )
    occupancy.lock_seat(session, seat.id)
    booking = Booking(
        site_id=site.id,
        space_id=seat.space_id,
        seat_id=seat.id,
        resident_id=resident_id,
        status=BookingStatus.CHECKED_IN if walk_in else BookingStatus.CONFIRMED,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=now,
        checked_in_at=now if walk_in else None,
        walk_in=walk_in,
    )
    return occupancy.take(session, booking)


def sit_now(
    session: Session,
    *,
    resident_id: int,
    space_id: int,
    now: datetime,
    seat_id: int | None = None,
) -> Booking:
    """A walk-in: take a free seat at once, already checked in.

    Without ``seat_id`` the seat free for longest is chosen (lowest number on a tie). The
    booking runs until the longest allowed end on the grid, the closing time, or the seat's
    next booking, whichever comes first.
    """
    space = session.get(Space, space_id)
    if space is None or space.kind is not SpaceKind.STUDY:
        raise NotFound("no such study room")
    booking_rules.check_not_retired(space)
    site = session.get_one(Site, space.site_id)
    booking_rules.member(session, resident_id, site.id)
    rules = booking_rules.rules_for(session, space)
    today = booking_rules.local_date(site, now)
    opens, closes = booking_rules.opening_hours(site, space)
    closing = booking_rules.at_local(site, today, closes)
    if now < booking_rules.at_local(site, today, opens) or now >= closing:
        raise OutsideOpeningHours(f"open {opens:%H:%M}–{closes:%H:%M}")
    latest = min(
        booking_rules.floor_to_grid(
            site, rules, now + timedelta(minutes=rules.max_booking_minutes)
        ),
        closing,
    )
    if latest - now < MIN_WALK_IN:
        raise OutsideOpeningHours(f"closing at {closes:%H:%M}", closes_at=closes)
    closure = booking_rules.closure_over(
        session, site_id=site.id, space_id=space.id, starts_at=now, ends_at=now + MIN_WALK_IN
    )
    if closure is not None:
        raise SpaceClosed(closure.reason, closure_id=closure.id)
    if closure_later := booking_rules.closure_over(
        session, site_id=site.id, space_id=space.id, starts_at=now, ends_at=latest
    ):
        latest = closure_later.starts_at
    candidates = [s for s in space.seats if seat_id is None or s.id == seat_id]
    if seat_id is not None and not candidates:
        raise NotFound("no such seat")
    occupancy.lock_resident(session, resident_id)
    best: tuple[Seat, datetime] | None = None
    for seat in candidates:
        end = _free_until(session, seat, now, latest)
        if end - now >= MIN_WALK_IN and (best is None or end > best[1]):
            best = (seat, end)
    if best is None:
        raise SlotTaken("no seat is free now" if seat_id is None else "that seat is taken now")
    seat, ends_at = best
    return _take_seat(
        session,
        seat,
        site=site,
        rules=rules,
        resident_id=resident_id,
        starts_at=now,
        ends_at=ends_at,
        now=now,
        walk_in=True,
    )


def _free_until(session: Session, seat: Seat, now: datetime, latest: datetime) -> datetime:
    """How long ``seat`` is free from ``now`` (``now`` itself if it is taken now)."""
    if not occupancy.is_free(
        session, space_id=seat.space_id, seat_id=seat.id, starts_at=now, ends_at=now + MIN_WALK_IN
    ):
        return now
    following = occupancy.overlapping(
        session, space_id=seat.space_id, seat_id=seat.id, starts_at=now, ends_at=latest
    )
    return latest if following is None else max(now, following.starts_at)


def _own_seat_booking(session: Session, resident_id: int, booking_id: int) -> Booking:
    booking = releases.own_booking(session, resident_id, booking_id)
    if booking.seat_id is None:
        raise NotFound("no such seat booking")
    return booking


def _rules_of(session: Session, booking: Booking) -> booking_rules.Rules:
    return booking_rules.rules_for(session, session.get_one(Space, booking.space_id))


def check_in(session: Session, *, resident_id: int, booking_id: int, now: datetime) -> Booking:
    """Check in at the kiosk, from 15 minutes before the start until 15 minutes after it."""
    booking = _own_seat_booking(session, resident_id, booking_id)
    if booking.status is not BookingStatus.CONFIRMED:
        raise WrongBookingState("this booking cannot be checked in", status=booking.status.value)
    rules = _rules_of(session, booking)
    opens, closes = booking_rules.check_in_window(booking, rules)
    if now < opens:
        raise CheckInTooEarly("check-in has not opened yet", opens_at=opens)
    if now >= closes:
        raise CheckInClosed("check-in has closed", closed_at=closes)
    booking.check_in(now)
    session.flush()
    return booking


def start_leave(session: Session, *, resident_id: int, booking_id: int, now: datetime) -> Booking:
    """Step out for a while: the seat is kept for up to 30 minutes."""
    booking = _own_seat_booking(session, resident_id, booking_id)
    if booking.status is not BookingStatus.CHECKED_IN or now >= booking.ends_at:
        raise WrongBookingState("only a seat in use can be left for a while")
    booking.step_out(now)
    session.flush()
    return booking


def come_back(session: Session, *, resident_id: int, booking_id: int, now: datetime) -> Booking:
    """Back from a temporary leave in time: the seat is yours again."""
    booking = _own_seat_booking(session, resident_id, booking_id)
    if booking.status is not BookingStatus.ON_LEAVE or booking.leave_started_at is None:
        raise WrongBookingState("this booking is not on a temporary leave")
    rules = _rules_of(session, booking)
    deadline = booking.leave_started_at + timedelta(minutes=rules.max_leave_minutes)
    if now >= deadline:
        # The release itself is the job's (booking_jobs.end_temporary_leave): an error here
        # must leave everything as it was.
        raise LeaveExpired("the temporary leave ran out", expired_at=deadline)
    booking.come_back()
    session.flush()
    return booking


def leave(session: Session, *, resident_id: int, booking_id: int, now: datetime) -> Booking:
    """Leave for good: the rest of the booking is released at once."""
    booking = _own_seat_booking(session, resident_id, booking_id)
    if booking.status not in (BookingStatus.CHECKED_IN, BookingStatus.ON_LEAVE):
        raise WrongBookingState("only a seat in use can be left")
    if now <= booking.starts_at:
        # Checked in early and gone before the start: nothing was used.
        releases.release(session, booking, status=BookingStatus.CANCELLED, now=now, reason="left")
    else:
        releases.release(
            session, booking, status=BookingStatus.COMPLETED, now=now, reason="left", used_until=now
        )
    return booking


def bookings_of(
    session: Session, *, resident_id: int, site_id: int, now: datetime
) -> list[Booking]:
    """A resident's seat and room bookings from today on, finished ones included (a rejected
    booking's reason must stay readable)."""
    site = session.get_one(Site, site_id)
    day_start, _ = booking_rules.local_day_bounds(site, booking_rules.local_date(site, now))
    return list(
        session.scalars(
            select(Booking)
            .where(
                Booking.resident_id == resident_id,
                Booking.site_id == site_id,
                Booking.ends_at > day_start,
            )
            .order_by(Booking.starts_at, Booking.id)
        )
    )


def free_seats(
    session: Session, *, space_id: int, starts_at: datetime, ends_at: datetime
) -> list[Seat]:
    """The seats of a study room with no active booking overlapping the period."""
    space = session.get(Space, space_id)
    if space is None or space.kind is not SpaceKind.STUDY:
        raise NotFound("no such study room")
    return [
        seat
        for seat in space.seats
        if occupancy.is_free(
            session, space_id=space.id, seat_id=seat.id, starts_at=starts_at, ends_at=ends_at
        )
    ]
