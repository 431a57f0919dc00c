"""The bookings calendar: a room's day or week, or the study room's seats for a day, as
blocks on a time line (who, status, series), with closures shown across them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from booking.core import sites
from booking.core.models.sites import Site
from booking.spaces import rules as booking_rules
from booking.spaces import schedule
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.closures import Closure
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.extensions import clock, database
from kiosk.staff.people.resident_page import BOOKING_STATUS_LABELS
from kiosk.staff.session import console_site_id
from kiosk.staff.spaces.forms import CalendarForm


@dataclass(frozen=True)
class Block:
    left: float  # percent of the lane, from opening time
    width: float
    starts: str  # local HH:MM
    ends: str
    css: str
    status: str  # translated status, or "" for a closure
    who: str  # masked resident name, series title, or the closure's reason
    detail: str = ""


@dataclass(frozen=True)
class Lane:
    label: str
    blocks: list[Block]
    day: date | None = None


def space_label(space: Space, locale: str) -> str:
    return space.name_en if locale == "en" else space.name_zh


def pending_count(site_id: int) -> int:
    """For the sub-navigation's "Approvals (n)"."""
    with database().read() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Booking)
                .where(Booking.site_id == site_id, Booking.status == BookingStatus.PENDING)
            )
            or 0
        )


class _Scale:
    """Places moments of one local day on a lane running from opening to closing time."""

    def __init__(self, site: Site, day: date, opens: time, closes: time) -> None:
        self.site = site
        self.start = booking_rules.at_local(site, day, opens)
        self.end = booking_rules.at_local(site, day, closes)

    def place(self, starts_at: datetime, ends_at: datetime) -> tuple[float, float] | None:
        start, end = max(starts_at, self.start), min(ends_at, self.end)
        if end <= start:
            return None
        span = (self.end - self.start).total_seconds()
        left = (start - self.start).total_seconds() / span * 100
        return round(left, 2), round((end - start).total_seconds() / span * 100, 2)

    def clock(self, moment: datetime) -> str:
        return f"{sites.local_time(self.site, moment):%H:%M}"


def _blocks(scale: _Scale, entries: list[schedule.Entry], closures: list[Closure]) -> list[Block]:
    blocks: list[Block] = []
    for closure in closures:
        placed = scale.place(closure.starts_at, closure.ends_at)
        if placed is not None:
            blocks.append(
                Block(
                    *placed,
                    starts=scale.clock(max(closure.starts_at, scale.start)),
                    ends=scale.clock(min(closure.ends_at, scale.end)),
                    css="block-closure",
                    status="",
                    who=closure.reason,
                )
            )
    for entry in entries:
        booking = entry.booking
        placed = scale.place(booking.starts_at, booking.ends_at)
        if placed is None:
            continue
        if entry.series is not None:
            who = entry.series.title
        elif entry.resident is not None:
            who = entry.resident.masked_name
        else:
            who = booking.purpose
        blocks.append(
            Block(
                *placed,
                starts=scale.clock(booking.starts_at),
                ends=scale.clock(booking.ends_at),
                css=f"block-{booking.status.value}" + (" block-series" if entry.series else ""),
                status=str(BOOKING_STATUS_LABELS[booking.status]),
                who=who,
                detail="" if entry.series or booking.seat_id else booking.purpose,
            )
        )
    return blocks


def _hours(opens: time, closes: time) -> list[tuple[str, float]]:
    """Hour marks for the lane's header, as (label, left percent)."""
    start = opens.hour * 60 + opens.minute
    span = closes.hour * 60 + closes.minute - start
    first = -(-start // 60)
    return [
        (f"{hour:02d}:00", round((hour * 60 - start) / span * 100, 2))
        for hour in range(first, (start + span) // 60 + 1)
    ]


def calendar() -> ResponseReturnValue:
    locale = str(get_locale() or "")
    with database().read() as session:
        site = session.get_one(Site, console_site_id())
        spaces = schedule.spaces_of(session, site_id=site.id)
        today = booking_rules.local_date(site, clock().now())
        form = CalendarForm(
            request.args, space=spaces[0].id if spaces else None, day=today, view="day"
        )
        form.space.choices = [
            SelectChoice(space.id, space_label(space, locale)) for space in spaces
        ]
        context = {"form": form, "pending": pending_count(site.id)}
        if not spaces:
            return render_template("staff/bookings_calendar.html", shown=None, **context)
        if not form.validate():
            return render_template("staff/bookings_calendar.html", shown=None, **context), 400
        space = next(s for s in spaces if s.id == form.space.data)
        day: date = form.day.data or today
        week = form.view.data == "week" and space.kind is SpaceKind.ACTIVITY
        first_day = day - timedelta(days=day.weekday()) if week else day
        shown = schedule.space_schedule(
            session, site_id=site.id, space_id=space.id, first_day=first_day, days=7 if week else 1
        )
        opens, closes = booking_rules.opening_hours(site, space)
        if space.kind is SpaceKind.STUDY:
            scale = _Scale(site, day, opens, closes)
            closures = shown.closures_on(day)
            lanes = [
                Lane(str(seat.number), _blocks(scale, shown.entries_of_seat(seat.id), closures))
                for seat in space.seats
            ]
        else:
            lanes = [
                Lane(
                    "",
                    _blocks(
                        _Scale(site, shown_day, opens, closes),
                        shown.entries_on(shown_day),
                        shown.closures_on(shown_day),
                    ),
                    day=shown_day,
                )
                for shown_day in shown.days
            ]
        step = timedelta(days=7 if week else 1)
        return render_template(
            "staff/bookings_calendar.html",
            shown=shown,
            space=space,
            space_name=space_label(space, locale),
            lanes=lanes,
            hours=_hours(opens, closes),
            day=day,
            week=week,
            is_study=space.kind is SpaceKind.STUDY,
            earlier=day - step,
            later=day + step,
            today=today,
            **context,
        )
