"""What a resident does with a study seat at the kiosk: book it, queue for it, or sit down
now. A refusal shows the seat or the map again with the reason in the resident's words."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from booking.core.errors import DomainError, InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.spaces import seats, waitlist
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import SeatForm
from kiosk.touch.messages import message_for
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required
from kiosk.touch.spaces import seats as seat_pages
from kiosk.touch.spaces import times as booking_times
from kiosk.url_ids import id_from_text


def _form_values(form: SeatForm) -> dict[str, str]:
    values = {key: form.text(key) for key in ("day", "start", "minutes")}
    # The room only matters for showing the map again; the seat decides where a booking is.
    if form.text("room"):
        values["room"] = form.text("room")
    return values


def _posted_seat_id(form: SeatForm) -> int:
    seat_id = id_from_text(form.text("seat_id"))
    if seat_id is None:
        raise InvalidInput("no seat chosen", field="seat_id")
    return seat_id


@resident_required
def book_seat(resident: KioskResident) -> ResponseReturnValue:
    return _take_or_queue(resident, queue=False)


@resident_required
def wait_for_seat(resident: KioskResident) -> ResponseReturnValue:
    return _take_or_queue(resident, queue=True)


def _take_or_queue(resident: KioskResident, *, queue: bool) -> ResponseReturnValue:
    site_info = kiosk_session.current_site()
    form = SeatForm.read()
    values = _form_values(form)
    now = clock().now()
    try:
        seat_id = _posted_seat_id(form)
    except InvalidInput as error:
        return seat_pages.seat_map_page(
            values, message_for(error, timezone=site_info.timezone), 422
        )
    try:
        with database().write() as session:
            site = session.get_one(Site, site_info.id)
            seat = seat_pages.seat_here(session, site.id, seat_id)
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
        return seat_pages.show_seat(resident, seat_id, values, message, error.status)
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
    """坐下就用: a free seat at once, already checked in (a chosen one, or the best free in
    the chosen room)."""
    site_info = kiosk_session.current_site()
    form = SeatForm.read()
    seat_text = form.text("seat_id")
    room_values = {"room": form.text("room")} if form.text("room") else {}
    if seat_text and id_from_text(seat_text) is None:
        message = message_for(InvalidInput(), timezone=site_info.timezone)
        return seat_pages.seat_map_page(room_values, message, 422)
    now = clock().now()
    try:
        with database().write() as session:
            if seat_text:
                seat = seat_pages.seat_here(session, site_info.id, int(seat_text))
                space_id, seat_id = seat.space_id, seat.id
            else:
                space = seat_pages.chosen_room(session, site_info.id, room_values)
                if space is None:
                    raise InvalidInput("choose a study room first", field="room")
                space_id, seat_id = space.id, None
            booking_id = seats.sit_now(
                session, resident_id=resident.id, space_id=space_id, now=now, seat_id=seat_id
            ).id
    except NotFound as error:
        if error.details.get("field") == "room":
            return seat_pages.bad_room(room_values)
        abort(404)
    except DomainError as error:
        if isinstance(error, InvalidInput) and error.details.get("field") == "room":
            if not room_values:
                return seat_pages.rooms_page({}, _("Please choose a study room first."), 422)
            return seat_pages.bad_room(room_values)
        message = message_for(error, timezone=site_info.timezone)
        if seat_text:
            return seat_pages.show_seat(resident, int(seat_text), {}, message, error.status)
        return seat_pages.seat_map_page(room_values, message, error.status)
    flash(_("The seat is yours now: you are checked in."), "success")
    return redirect(url_for("touch.booking_slip", booking_id=booking_id))
