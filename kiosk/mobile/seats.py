"""Booking a study seat from the phone: a room, a day (today, tomorrow or later), a start and
a length, then one of the free seats. The choices offered and the refusals are the kiosk's
(``kiosk.touch.spaces.times`` and ``booking.spaces.seats``); no seat map, a list that fits 360 px.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from booking.core.errors import DomainError, InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.spaces import availability, seats
from booking.spaces import rules as booking_rules
from booking.spaces.availability import SeatState
from booking.spaces.models.spaces import Space
from kiosk.extensions import clock, database
from kiosk.mobile import centres
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.forms import PeriodForm, SeatForm
from kiosk.touch.messages import message_for
from kiosk.touch.spaces import seats as seat_pages
from kiosk.touch.spaces import times as booking_times
from kiosk.touch.spaces import words as booking_words
from kiosk.touch.spaces.times import Choice
from kiosk.url_ids import id_from_text


@dataclass(frozen=True)
class RoomOption:
    id: int
    name: str
    chosen: bool


def _room(session: Session, site_id: int, text: str) -> tuple[Space, list[RoomOption]]:
    """The study room asked for (the first when none or a stale one is asked), and the list."""
    rooms = seat_pages.study_rooms(session, site_id)
    if not rooms:
        abort(404)
    asked = id_from_text(text) if text else None
    space = next((room for room in rooms if room.id == asked), rooms[0])
    options = [RoomOption(r.id, booking_words.space_name(r), r.id == space.id) for r in rooms]
    return space, options


def _choice(session: Session, site: Site, space: Space, values: dict[str, str]) -> Choice:
    return booking_times.choose(
        site, space, booking_rules.rules_for(session, space), clock().now(),
        day_text=values.get("day", ""), start_text=values.get("start", ""),
        minutes_text=values.get("minutes", ""),
        default_minutes=booking_times.DEFAULT_SEAT_MINUTES,
    )  # fmt: skip


@resident_required
def seat_list(resident: PhoneResident) -> ResponseReturnValue:
    return _page(PeriodForm.read().present())


def _page(
    values: dict[str, str], error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    with database().read() as session:
        site = session.get_one(Site, centres.chosen_site().id)
        space, rooms = _room(session, site.id, values.get("room", ""))
        room_id = space.id
        choice = _choice(session, site, space, values)
        free: list[SeatState] = []
        when = ""
        if choice.starts_at is not None and choice.ends_at is not None:
            free = [
                seat
                for seat in availability.seat_states(
                    session,
                    site_id=site.id,
                    space_id=space.id,
                    starts_at=choice.starts_at,
                    ends_at=choice.ends_at,
                )  # fmt: skip
                if seat.free
            ]
            when = booking_words.period_text(choice.starts_at, choice.ends_at, site.timezone)
        today = booking_rules.local_date(site, clock().now())
        options = centres.options(session)
    return render_template(
        "mobile/seats.html", rooms=rooms, room_id=room_id, choice=choice, today=today,
        free=free, when=when, error=error, words=booking_words, centres=options,
        centre_back="seats",
    ), status  # fmt: skip


@resident_required
def book_seat(resident: PhoneResident) -> ResponseReturnValue:
    site_info = centres.chosen_site()
    form = SeatForm.read()
    values = {key: form.text(key) for key in ("day", "start", "minutes", "room")}
    seat_id = id_from_text(form.text("seat_id"))
    if seat_id is None:
        return _page(values, message_for(InvalidInput(), timezone=site_info.timezone), 422)
    try:
        with database().write() as session:
            site = session.get_one(Site, site_info.id)
            seat = seat_pages.seat_here(session, site.id, seat_id)
            starts_at, ends_at = booking_times.period_from_form(
                site, values["day"], values["start"], values["minutes"]
            )
            centres.make_visitor_if_new(session, resident, clock().now())
            seats.book_seat(session, resident_id=resident.id, seat_id=seat.id,
                            starts_at=starts_at, ends_at=ends_at, now=clock().now())  # fmt: skip
    except NotFound:
        return _page(values, message_for(NotFound(), timezone=site_info.timezone), 404)
    except DomainError as error:
        return _page(values, message_for(error, timezone=site_info.timezone), error.status)
    flash(_("Your seat is booked."), "success")
    return redirect(url_for("mobile.my_bookings"))
