"""Booking an activity room from the phone for a group: a room, a day, a start and a length,
how many people and what for. The choices and refusals are the kiosk's
(``kiosk.touch.spaces.rooms`` and ``booking.spaces.rooms``); a room that needs the staff's
approval is sent as a request, as at the kiosk. No timeline: a form that fits 360 px.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from booking.core.errors import DomainError, InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.spaces import rooms
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import BookingStatus
from kiosk.extensions import clock, database
from kiosk.mobile import centres
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.forms import PeriodForm, RoomBookingForm
from kiosk.touch.messages import message_for
from kiosk.touch.spaces import rooms as kiosk_rooms
from kiosk.touch.spaces import times as booking_times
from kiosk.touch.spaces import words as booking_words
from kiosk.url_ids import id_from_text


@dataclass(frozen=True)
class RoomOption:
    id: int
    name: str
    chosen: bool


@resident_required
def room_form(resident: PhoneResident) -> ResponseReturnValue:
    return _page(PeriodForm.read().present())


def _page(
    values: dict[str, str], error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    with database().read() as session:
        site = session.get_one(Site, centres.chosen_site().id)
        spaces = kiosk_rooms.activity_rooms(session, site.id)
        if not spaces:
            abort(404)
        asked = id_from_text(values.get("room", ""))
        space = next((room for room in spaces if room.id == asked), spaces[0])
        choice = booking_times.choose(
            site, space, booking_rules.rules_for(session, space), clock().now(),
            day_text=values.get("day", ""), start_text=values.get("start", ""),
            minutes_text=values.get("minutes", ""),
            default_minutes=booking_times.DEFAULT_ROOM_MINUTES,
        )  # fmt: skip
        options = [RoomOption(r.id, booking_words.space_name(r), r.id == space.id) for r in spaces]
        room = {"id": space.id, "capacity": space.capacity, "needs_approval": space.needs_approval}
        today = booking_rules.local_date(site, clock().now())
        centre_options = centres.options(session)
    return render_template(
        "mobile/rooms.html", rooms=options, room=room, choice=choice, today=today,
        values=values, purposes=kiosk_rooms.PURPOSES, error=error, words=booking_words,
        centres=centre_options, centre_back="rooms",
    ), status  # fmt: skip


@resident_required
def book_room(resident: PhoneResident) -> ResponseReturnValue:
    site_info = centres.chosen_site()
    form = RoomBookingForm.read()
    values = {**form.values(), "room": PeriodForm.read().text("room")}
    space_id = id_from_text(values["room"])
    now = clock().now()
    try:
        if space_id is None:
            raise NotFound("no such room")
        with database().write() as session:
            site = session.get_one(Site, site_info.id)
            space = kiosk_rooms.room_here(session, site.id, space_id)
            starts_at, ends_at = booking_times.period_from_form(
                site, values["day"], values["start"], values["minutes"]
            )
            centres.make_visitor_if_new(session, resident, now)
            booking = rooms.book_room(
                session, resident_id=resident.id, space_id=space.id, starts_at=starts_at,
                ends_at=ends_at, headcount=kiosk_rooms.headcount_from_form(values["headcount"]),
                purpose=kiosk_rooms.purpose_from_form(values), now=now,
            )  # fmt: skip
            pending = booking.status is BookingStatus.PENDING
    except DomainError as error:
        message = message_for(error, timezone=site_info.timezone)
        if isinstance(error, InvalidInput) and error.details.get("field") == "headcount":
            message = str(kiosk_rooms.HEADCOUNT_HELP)
        return _page(values, message, error.status)
    if pending:
        flash(
            _(
                "Your request is sent. The staff will look at it soon; you will see the answer here."
            ),
            "success",
        )
    else:
        flash(_("The room is booked."), "success")
    return redirect(url_for("mobile.my_bookings"))
