"""Study seats at the kiosk: pick a day and time, tap a seat on the map, book it or queue for
it, or sit down now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from booking import booking_rules, seats, waitlist
from booking.errors import DomainError, InvalidInput, NotFound
from booking.models import ACTIVE_STATUSES, Booking, Seat, Site, Space, SpaceKind
from kiosk.extensions import clock, database
from kiosk.touch import booking_times, booking_words
from kiosk.touch import session as kiosk_session
from kiosk.touch.booking_times import Choice
from kiosk.touch.messages import message_for
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required


@dataclass(frozen=True)
class SeatTile:
    id: int
    number: int
    row: int
    col: int
    power: bool
    window: bool
    quiet: bool
    free: bool
    mine: bool


def study_room(session: Session, site_id: int) -> Space:
    """The site's study room (the first, if a centre ever has more)."""
    space = session.scalar(
        select(Space)
        .where(
            Space.site_id == site_id, Space.kind == SpaceKind.STUDY, Space.retired_at.is_(None)
        )
        .order_by(Space.id)
        .limit(1)
    )
    if space is None:
        abort(404)
    return space


def _seat_here(session: Session, site_id: int, seat_id: int) -> Seat:
    """A seat of this kiosk's centre; any other is as good as missing."""
    seat = session.get(Seat, seat_id)
    if seat is None or seat.space.site_id != site_id or seat.space.kind is not SpaceKind.STUDY:
        raise NotFound("no such seat")
    return seat


def _taken_seat_ids(
    session: Session, space_id: int, starts_at: datetime, ends_at: datetime
) -> set[int]:
    """The seats of the room held (by anyone) for part of the period, in one query."""
    return {
        seat_id
        for seat_id in session.scalars(
            select(Booking.seat_id).where(
                Booking.space_id == space_id,
                Booking.seat_id.is_not(None),
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < ends_at,
                Booking.ends_at > starts_at,
            )
        )
        if seat_id is not None
    }


def _my_seat_ids(session: Session, resident: KioskResident | None, choice: Choice) -> set[int]:
    if resident is None or choice.starts_at is None or choice.ends_at is None:
        return set()
    return set(
        session.scalars(
            select(Booking.seat_id).where(
                Booking.resident_id == resident.id,
                Booking.seat_id.is_not(None),
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < choice.ends_at,
                Booking.ends_at > choice.starts_at,
            )
        )
    )


def _choice(session: Session, site: Site, space: Space, values: dict[str, str]) -> Choice:
    return booking_times.choose(
        site,
        space,
        booking_rules.rules_for(session, space),
        clock().now(),
        day_text=values.get("day", ""),
        start_text=values.get("start", ""),
        minutes_text=values.get("minutes", ""),
        default_minutes=booking_times.DEFAULT_SEAT_MINUTES,
    )


def seat_map() -> ResponseReturnValue:
    """The seat map for the chosen period; open to anyone, booking needs a sign-in."""
    return _seat_map_page(request.args.to_dict())


def _seat_map_page(
    values: dict[str, str], error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    resident = kiosk_session.current_resident()
    with database().read() as session:
        site = session.get_one(Site, kiosk_session.current_site().id)
        space = study_room(session, site.id)
        choice = _choice(session, site, space, values)
        tiles: list[SeatTile] = []
        if choice.starts_at is not None and choice.ends_at is not None:
            mine = _my_seat_ids(session, resident, choice)
            taken = _taken_seat_ids(session, space.id, choice.starts_at, choice.ends_at)
            tiles = [
                SeatTile(
                    id=seat.id,
                    number=seat.number,
                    row=seat.map_row,
                    col=seat.map_col,
                    power=seat.has_power,
                    window=seat.by_window,
                    quiet=seat.quiet_zone,
                    free=seat.id not in taken,
                    mine=seat.id in mine,
                )
                for seat in space.seats
            ]
        room_name = booking_words.space_name(space)
        today = booking_rules.local_date(site, clock().now())
    return render_template(
        "touch/seats.html",
        room_name=room_name,
        choice=choice,
        today=today,
        tiles=tiles,
        free_count=sum(1 for tile in tiles if tile.free),
        error=error,
        words=booking_words,
    ), status


@resident_required
def seat_page(resident: KioskResident, seat_id: int) -> ResponseReturnValue:
    """One seat for the chosen period: book it if free, queue for it if taken."""
    return _seat_page(resident, seat_id, request.args.to_dict())


def _seat_page(
    resident: KioskResident,
    seat_id: int,
    values: dict[str, str],
    error: str | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    site_info = kiosk_session.current_site()
    with database().read() as session:
        site = session.get_one(Site, site_info.id)
        try:
            seat = _seat_here(session, site.id, seat_id)
        except NotFound:
            abort(404)
        space = seat.space
        choice = _choice(session, site, space, values)
        free = False
        if choice.starts_at is not None and choice.ends_at is not None:
            free = seat.id not in _taken_seat_ids(
                session, space.id, choice.starts_at, choice.ends_at
            )
        mine = seat.id in _my_seat_ids(session, resident, choice)
        tile = SeatTile(
            seat.id,
            seat.number,
            seat.map_row,
            seat.map_col,
            seat.has_power,
            seat.by_window,
            seat.quiet_zone,
            free,
            mine,
        )
        room_name = booking_words.space_name(space)
        today = booking_rules.local_date(site, clock().now())
        when = (
            booking_words.period_text(choice.starts_at, choice.ends_at, site.timezone)
            if choice.starts_at is not None and choice.ends_at is not None
            else ""
        )
    return render_template(
        "touch/seats_seat.html",
        room_name=room_name,
        seat=tile,
        choice=choice,
        today=today,
        when=when,
        # The period under way: the resident standing here may simply sit down.
        sit_here=tile.free and choice.starts_at is not None and choice.starts_at <= clock().now(),
        error=error,
        words=booking_words,
    ), status


def _form_values() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in ("day", "start", "minutes")}


def _posted_seat_id() -> int:
    text = request.form.get("seat_id", "")
    if not text.isdigit():
        raise InvalidInput("no seat chosen", field="seat_id")
    return int(text)


@resident_required
def book_seat(resident: KioskResident) -> ResponseReturnValue:
    return _take_or_queue(resident, queue=False)


@resident_required
def wait_for_seat(resident: KioskResident) -> ResponseReturnValue:
    return _take_or_queue(resident, queue=True)


def _take_or_queue(resident: KioskResident, *, queue: bool) -> ResponseReturnValue:
    site_info = kiosk_session.current_site()
    values = _form_values()
    now = clock().now()
    try:
        seat_id = _posted_seat_id()
    except InvalidInput as error:
        return _seat_map_page(values, message_for(error, timezone=site_info.timezone), 422)
    try:
        with database().write() as session:
            site = session.get_one(Site, site_info.id)
            seat = _seat_here(session, site.id, seat_id)
            starts_at, ends_at = booking_times.period_from_form(
                site, values["day"], values["start"], values["minutes"]
            )
            if queue:
                waitlist.join(
                    session,
                    resident_id=resident.id,
                    space_id=seat.space_id,
                    seat_id=seat.id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    now=now,
                )
            else:
                booking_id = seats.book_seat(
                    session,
                    resident_id=resident.id,
                    seat_id=seat.id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    now=now,
                ).id
    except NotFound:
        abort(404)
    except DomainError as error:
        message = message_for(error, timezone=site_info.timezone)
        return _seat_page(resident, seat_id, values, message, error.status)
    if queue:
        flash(
            _("You are on the waiting list. If the seat becomes free, we will keep it for you."),
            "success",
        )
        return redirect(url_for("touch.my_bookings"))
    flash(_("Your seat is booked."), "success")
    return redirect(url_for("touch.booking_slip", booking_id=booking_id))


@resident_required
def sit_now(resident: KioskResident) -> ResponseReturnValue:
    """坐下就用: a free seat at once, already checked in (a chosen one, or the best free)."""
    site_info = kiosk_session.current_site()
    seat_text = request.form.get("seat_id", "")
    if seat_text and not seat_text.isdigit():
        return _seat_map_page({}, message_for(InvalidInput(), timezone=site_info.timezone), 422)
    now = clock().now()
    try:
        with database().write() as session:
            space = study_room(session, site_info.id)
            seat_id = _seat_here(session, site_info.id, int(seat_text)).id if seat_text else None
            booking_id = seats.sit_now(
                session, resident_id=resident.id, space_id=space.id, now=now, seat_id=seat_id
            ).id
    except NotFound:
        abort(404)
    except DomainError as error:
        message = message_for(error, timezone=site_info.timezone)
        if seat_text:
            return _seat_page(resident, int(seat_text), {}, message, error.status)
        return _seat_map_page({}, message, error.status)
    flash(_("The seat is yours now: you are checked in."), "success")
    return redirect(url_for("touch.booking_slip", booking_id=booking_id))
