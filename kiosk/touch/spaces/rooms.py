"""Activity rooms at the kiosk: every room on a timeline for a day, then book one for a group
(some rooms wait for staff approval) or join the waiting list for a taken time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy.orm import Session

from booking.core.errors import DomainError, InvalidInput, NotFound, SlotTaken
from booking.core.models.sites import Site
from booking.spaces import availability, rooms, waitlist
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import BookingStatus
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import PeriodForm, RoomBookingForm
from kiosk.touch.messages import message_for
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required
from kiosk.touch.spaces import times as booking_times
from kiosk.touch.spaces import words as booking_words

# Ready-made purposes, so nobody has to type on a touchscreen; a few words may be added.
PURPOSES = {
    "exercise": _l("Dancing or exercise"),
    "games": _l("Table tennis or games"),
    "art": _l("Calligraphy or painting"),
    "meeting": _l("Residents' meeting"),
    "class": _l("Class or talk"),
    "family": _l("Family or birthday gathering"),
}
HEADCOUNT_HELP: LazyString = _l("Please tap how many people will come.")


@dataclass(frozen=True)
class Cell:
    start: time
    state: str  # free, taken, pending, closed, past, shut (outside the room's hours)


@dataclass(frozen=True)
class RoomColumn:
    id: int
    name: str
    capacity: int
    needs_approval: bool
    cells: list[Cell]


def activity_rooms(session: Session, site_id: int) -> list[Space]:
    return availability.spaces_in_use(session, site_id=site_id, kind=SpaceKind.ACTIVITY)


def room_here(session: Session, site_id: int, space_id: int) -> Space:
    space = session.get(Space, space_id)
    if space is None or space.site_id != site_id or space.kind is not SpaceKind.ACTIVITY:
        raise NotFound("no such room")
    return space


def _cells(
    site: Site, plan: availability.RoomDay, rules: booking_rules.Rules, day: date,
    times: list[time], now: datetime,
) -> list[Cell]:  # fmt: skip
    earliest = booking_rules.floor_to_grid(site, rules, now)
    cells = []
    for start in times:
        starts_at = booking_rules.at_local(site, day, start)
        ends_at = starts_at + rules.grid
        busy = [p for p in plan.busy if p.starts_at < ends_at and p.ends_at > starts_at]
        if starts_at < plan.opens_at or ends_at > plan.closes_at:
            state = "shut"
        elif any(p.kind == "closure" for p in busy):
            state = "closed"
        elif starts_at < earliest:
            state = "past"
        elif any(p.status == BookingStatus.PENDING.value for p in busy):
            state = "pending"
        elif busy:
            state = "taken"
        else:
            state = "free"
        cells.append(Cell(start, state))
    return cells


def _grid_times(site: Site, spaces: list[Space], grid: timedelta) -> list[time]:
    """Every grid time from the earliest opening to the latest closing of the rooms."""
    hours = [booking_rules.opening_hours(site, space) for space in spaces]
    if not hours:
        return []
    opens = min(h[0] for h in hours)
    closes = max(h[1] for h in hours)
    moment = datetime.combine(date(2000, 1, 3), opens)
    end = datetime.combine(date(2000, 1, 3), closes)
    times = []
    while moment + grid <= end:
        times.append(moment.time())
        moment += grid
    return times


def timeline() -> ResponseReturnValue:
    """All activity rooms on one day: free, taken and closed times; open to anyone."""
    now = clock().now()
    with database().read() as session:
        site = session.get_one(Site, kiosk_session.current_site().id)
        spaces = activity_rooms(session, site.id)
        if not spaces:
            abort(404)
        # Every room's rules in one read; the first room's set the days and the grid.
        rooms_rules = booking_rules.rules_of(session, spaces)
        rules = rooms_rules[spaces[0].id]
        days = booking_times.bookable_days(site, rules, now)
        try:
            day = booking_times.parse_day(PeriodForm.read().text("day"))
        except InvalidInput:
            day = days[0]
        if day not in days:
            day = days[0]
        times = _grid_times(site, spaces, rules.grid)
        # Every room's day in two reads, not two a room.
        plans = availability.rooms_day(session, site=site, spaces=spaces, day=day)
        columns = [
            RoomColumn(
                id=space.id,
                name=booking_words.space_name(space),
                capacity=space.capacity,
                needs_approval=space.needs_approval,
                cells=_cells(site, plans[space.id], rooms_rules[space.id], day, times, now),
            )
            for space in spaces
        ]
        today = booking_rules.local_date(site, now)
    return render_template(
        "touch/rooms.html",
        days=days,
        day=day,
        today=today,
        times=times,
        columns=columns,
        words=booking_words,
    )


@resident_required
def room_form(resident: KioskResident, space_id: int) -> ResponseReturnValue:
    """Book a room from a tapped time: how long, how many people, what for."""
    return _room_form_page(space_id, RoomBookingForm.read().present())


def _room_form_page(
    space_id: int,
    values: dict[str, str],
    error: str | None = None,
    status: int = 200,
    offer_queue: bool = False,
) -> ResponseReturnValue:
    now = clock().now()
    with database().read() as session:
        site = session.get_one(Site, kiosk_session.current_site().id)
        try:
            space = room_here(session, site.id, space_id)
        except NotFound:
            abort(404)
        rules = booking_rules.rules_for(session, space)
        choice = booking_times.choose(
            site,
            space,
            rules,
            now,
            day_text=values.get("day", ""),
            start_text=values.get("start", ""),
            minutes_text=values.get("minutes", ""),
            default_minutes=booking_times.DEFAULT_ROOM_MINUTES,
        )
        taken = False
        if choice.start is not None:
            plan = availability.rooms_day(session, site=site, spaces=[space], day=choice.day)
            first = _cells(site, plan[space.id], rules, choice.day, [choice.start], now)[0]
            taken = first.state in ("taken", "pending")
        name = booking_words.space_name(space)
        capacity = space.capacity
        needs_approval = space.needs_approval
        today = booking_rules.local_date(site, now)
    return render_template(
        "touch/rooms_book.html",
        space_id=space_id,
        room_name=name,
        capacity=capacity,
        needs_approval=needs_approval,
        choice=choice,
        today=today,
        values=values,
        taken=taken,
        offer_queue=offer_queue or taken,
        purposes=PURPOSES,
        error=error,
        words=booking_words,
    ), status


def _posted_values() -> dict[str, str]:
    return RoomBookingForm.read().values()


def headcount_from_form(text: str) -> int:
    # ASCII digits, and few enough to compare: the room's capacity is the rule after that.
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        raise InvalidInput("how many people?", field="headcount")
    return int(text)


def purpose_from_form(values: dict[str, str]) -> str:
    """The chosen purpose in the resident's words, and what they added."""
    chosen = values["purpose"]
    if chosen and chosen not in PURPOSES:
        raise InvalidInput("unknown purpose", field="purpose")
    parts = [str(PURPOSES[chosen])] if chosen else []
    if values["details"]:
        parts.append(values["details"])
    return ": ".join(parts)


@resident_required
def book_room(resident: KioskResident, space_id: int) -> ResponseReturnValue:
    return _book_or_queue(resident, space_id, queue=False)


@resident_required
def wait_for_room(resident: KioskResident, space_id: int) -> ResponseReturnValue:
    return _book_or_queue(resident, space_id, queue=True)


def _book_or_queue(resident: KioskResident, space_id: int, *, queue: bool) -> ResponseReturnValue:
    site_info = kiosk_session.current_site()
    values = _posted_values()
    now = clock().now()
    pending = False
    try:
        with database().write() as session:
            site = session.get_one(Site, site_info.id)
            space = room_here(session, site.id, space_id)
            starts_at, ends_at = booking_times.period_from_form(
                site, values["day"], values["start"], values["minutes"]
            )
            headcount = headcount_from_form(values["headcount"])
            if queue:
                waitlist.join(
                    session,
                    resident_id=resident.id,
                    space_id=space.id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    headcount=headcount,
                    now=now,
                )
            else:
                booking = rooms.book_room(
                    session,
                    resident_id=resident.id,
                    space_id=space.id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    headcount=headcount,
                    purpose=purpose_from_form(values),
                    now=now,
                )
                booking_id = booking.id
                pending = booking.status is BookingStatus.PENDING
    except NotFound:
        abort(404)
    except DomainError as error:
        message = message_for(error, timezone=site_info.timezone)
        if isinstance(error, InvalidInput) and error.details.get("field") == "headcount":
            message = str(HEADCOUNT_HELP)
        return _room_form_page(
            space_id, values, message, error.status, offer_queue=isinstance(error, SlotTaken)
        )
    if queue:
        flash(
            _("You are on the waiting list. If the time becomes free, we will keep it for you."),
            "success",
        )
        return redirect(url_for("touch.my_bookings"))
    if pending:
        flash(
            _(
                "Your request is sent. The staff will look at it soon; you will see the answer here."
            ),
            "success",
        )
    else:
        flash(_("The room is booked."), "success")
    return redirect(url_for("touch.booking_slip", booking_id=booking_id))
