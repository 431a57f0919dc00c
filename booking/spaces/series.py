"""Recurring staff bookings of activity rooms (tai-chi every Tuesday, the Friday service day)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from booking.core.errors import InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.spaces import occupancy, releases
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus
from booking.spaces.models.series import BookingSeries
from booking.spaces.models.series_exceptions import SeriesException
from booking.spaces.models.spaces import Space, SpaceKind
from booking.spaces.rooms import staff_member

# Occurrences become bookings this far ahead, well before residents may book (14 days), so
# the class keeps its room; the daily job moves the horizon along.
HORIZON = timedelta(days=28)
MAX_SPAN = timedelta(days=366)


@dataclass
class Materialised:
    created: list[date] = field(default_factory=list)
    taken: list[date] = field(default_factory=list)  # someone had booked it first
    closed: list[date] = field(default_factory=list)


def create_series(
    session: Session,
    *,
    staff_id: int,
    site_id: int,
    space_id: int,
    title: str,
    weekday: int,
    start_time: time,
    end_time: time,
    starts_on: date,
    ends_on: date,
    now: datetime,
    headcount: int = 1,
    skip_dates: tuple[date, ...] = (),
) -> tuple[BookingSeries, Materialised]:
    """Create a weekly series and book its occurrences within the horizon at once.

    ``site_id`` is the centre the staff member works at: another centre's room is not found
    there, even for an account that may work at both."""
    space = session.get(Space, space_id)
    if space is None or space.kind is not SpaceKind.ACTIVITY or space.site_id != site_id:
        raise NotFound("no such activity room")
    site = session.get_one(Site, space.site_id)
    staff_member(session, staff_id, site.id)
    title = title.strip()
    if not title or len(title) > 100:
        raise InvalidInput("a title of 1–100 characters", field="title")
    if not 0 <= weekday <= 6:
        raise InvalidInput("weekday is 0 (Monday) to 6 (Sunday)", field="weekday")
    if ends_on < starts_on or ends_on - starts_on > MAX_SPAN:
        raise InvalidInput("the last date is on or after the first, within a year", field="ends_on")
    booking_rules.check_headcount(space, headcount)
    rules = booking_rules.rules_for(session, space)
    # Check the times as they would be booked, on the first matching date.
    first = starts_on + timedelta(days=(weekday - starts_on.weekday()) % 7)
    if first > ends_on:
        raise InvalidInput("no such weekday between those dates", field="weekday")
    for skipped in skip_dates:
        if skipped.weekday() != weekday or not starts_on <= skipped <= ends_on:
            raise InvalidInput(f"{skipped} is not a date of the series", field="skip_dates")
    _check_times(session, site, space, rules, first, start_time, end_time, now)
    series = BookingSeries(
        site_id=site.id,
        space_id=space.id,
        title=title,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        starts_on=starts_on,
        ends_on=ends_on,
        headcount=headcount,
        created_by_staff_id=staff_id,
        created_at=now,
    )
    series.exceptions = [SeriesException(on_date=d) for d in sorted(set(skip_dates))]
    session.add(series)
    session.flush()
    return series, materialise(session, series_id=series.id, now=now)


def _check_times(
    session: Session,
    site: Site,
    space: Space,
    rules: booking_rules.Rules,
    day: date,
    start_time: time,
    end_time: time,
    now: datetime,
) -> None:
    starts_at = booking_rules.at_local(site, day, start_time)
    ends_at = booking_rules.at_local(site, day, end_time)
    # Staff series are not limited to the residents' booking length or window; grid, hours are.
    booking_rules.check_period(
        session,
        site=site,
        space=space,
        rules=booking_rules.Rules(
            grid_minutes=rules.grid_minutes, max_booking_minutes=24 * 60, bookable_days=1
        ),
        starts_at=starts_at,
        ends_at=ends_at,
        now=now,
        within_window=False,
        check_closures=False,
    )


def materialise(
    session: Session, *, series_id: int, now: datetime, horizon: timedelta = HORIZON
) -> Materialised:
    """Scheduled (daily) and at creation: book the series' dates up to ``horizon`` ahead.

    Idempotent: a date already materialised (even if later cancelled) is never booked again.
    A date someone else holds, or a closed date, is skipped and reported.
    """
    series = session.get(BookingSeries, series_id)
    if series is None:
        raise NotFound("no such series")
    site = session.get_one(Site, series.site_id)
    occupancy.lock_space(session, series.space_id)
    done = set(
        session.scalars(select(Booking.occurs_on).where(Booking.series_id == series.id)).all()
    )
    result = Materialised()
    today = booking_rules.local_date(site, now)
    day = max(series.starts_on, today)
    day += timedelta(days=(series.weekday - day.weekday()) % 7)
    last = min(series.ends_on, booking_rules.local_date(site, now + horizon))
    while day <= last:
        starts_at = booking_rules.at_local(site, day, series.start_time)
        ends_at = booking_rules.at_local(site, day, series.end_time)
        if day not in done and day not in series.skipped_dates and starts_at >= now:
            if booking_rules.closure_over(
                session,
                site_id=site.id,
                space_id=series.space_id,
                starts_at=starts_at,
                ends_at=ends_at,
            ):
                result.closed.append(day)
            elif not occupancy.is_free(
                session,
                space_id=series.space_id,
                seat_id=None,
                starts_at=starts_at,
                ends_at=ends_at,
            ):
                result.taken.append(day)
            else:
                occupancy.take(
                    session,
                    Booking(
                        site_id=site.id,
                        space_id=series.space_id,
                        staff_id=series.created_by_staff_id,
                        status=BookingStatus.CONFIRMED,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        headcount=series.headcount,
                        purpose=series.title,
                        created_at=now,
                        series_id=series.id,
                        occurs_on=day,
                    ),
                )
                result.created.append(day)
        day += timedelta(days=7)
    session.flush()
    return result


def _series_of(session: Session, staff_id: int, site_id: int, series_id: int) -> BookingSeries:
    """A series of ``site_id``, the centre the staff member works at now: another centre's is
    not found, even by a worker of both (booking.people.staff_sites)."""
    series = session.get(BookingSeries, series_id)
    if series is None or series.site_id != site_id:
        raise NotFound("no such series")
    staff_member(session, staff_id, site_id)
    return series


def add_exception(
    session: Session, *, staff_id: int, site_id: int, series_id: int, on_date: date,
    now: datetime,
) -> SeriesException:  # fmt: skip
    """The series skips ``on_date``; a booking already made for it is cancelled."""
    series = _series_of(session, staff_id, site_id, series_id)
    if on_date.weekday() != series.weekday or not series.starts_on <= on_date <= series.ends_on:
        raise InvalidInput(f"{on_date} is not a date of the series", field="on_date")
    existing = next((e for e in series.exceptions if e.on_date == on_date), None)
    if existing is not None:
        return existing
    exception = SeriesException(on_date=on_date)
    series.exceptions.append(exception)
    session.flush()
    booking = session.scalar(
        select(Booking).where(Booking.series_id == series.id, Booking.occurs_on == on_date)
    )
    if booking is not None and booking.status in ACTIVE_STATUSES and booking.ends_at > now:
        releases.release(
            session, booking, status=BookingStatus.CANCELLED, now=now, reason="series exception"
        )
    return exception


def end_series(
    session: Session, *, staff_id: int, site_id: int, series_id: int, last_date: date,
    now: datetime,
) -> BookingSeries:  # fmt: skip
    """The series meets on no date after ``last_date``; its later bookings are cancelled.

    Ending before the first meeting leaves a series that never meets (its first date is
    kept, as an exception, because a series spans at least one day).
    """
    series = _series_of(session, staff_id, site_id, series_id)
    if last_date >= series.ends_on:
        raise InvalidInput("the series already ends by then", field="last_date")
    occupancy.lock_space(session, series.space_id)
    if last_date < series.starts_on:
        series.ends_on = series.starts_on
        if series.starts_on.weekday() == series.weekday and not any(
            e.on_date == series.starts_on for e in series.exceptions
        ):
            series.exceptions.append(SeriesException(on_date=series.starts_on))
    else:
        series.ends_on = last_date
    session.flush()
    later = session.scalars(
        select(Booking)
        .where(
            Booking.series_id == series.id,
            Booking.occurs_on > last_date,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.ends_at > now,
        )
        .order_by(Booking.starts_at)
    ).all()
    for booking in later:
        releases.release(
            session, booking, status=BookingStatus.CANCELLED, now=now, reason="series ended"
        )
    return series


def series_of(session: Session, *, site_id: int) -> list[BookingSeries]:
    """Every series of the site, the latest-ending first, with its exceptions loaded."""
    return list(
        session.scalars(
            select(BookingSeries)
            .where(BookingSeries.site_id == site_id)
            .options(selectinload(BookingSeries.exceptions))
            .order_by(BookingSeries.ends_on.desc(), BookingSeries.id.desc())
        )
    )
