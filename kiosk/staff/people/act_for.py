"""Staff acting for a resident at the counter or on the phone: book a study seat or an
activity room, and cancel a booking, from the resident's page (so the resident is named
first). The booking rules are the kiosk's, called through ``booking.spaces.for_residents``;
a refusal shows the kiosk's own words for it, so staff can read the resident what the kiosk
would have said. Tools are in ``act_for_lending``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from booking.core.errors import DomainError, NotFound
from booking.core.models.sites import Site
from booking.people import residents as resident_service
from booking.people.models.residents import Resident
from booking.spaces import availability, for_residents
from booking.spaces import rules as booking_rules
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.spaces import Space, SpaceKind
from kiosk.extensions import clock, database
from kiosk.staff.people.act_for_forms import (
    ActForAResidentForm,
    RoomForAResidentForm,
    SeatForAResidentForm,
)
from kiosk.staff.people.act_for_lending import live_holds, live_pickups
from kiosk.staff.session import console_site_id
from kiosk.touch.messages import message_for
from kiosk.touch.spaces import words as booking_words

# Bookings staff may still cancel for the resident: the ones the resident could cancel.
CANCELLABLE = (BookingStatus.HELD, BookingStatus.PENDING, BookingStatus.CONFIRMED)


def kiosk_words(error: DomainError, site: Site) -> str:
    """What the kiosk tells the resident for ``error`` (the same sentence, the same rule)."""
    return message_for(error, timezone=site.timezone)


def _spaces(session: Session, kind: SpaceKind) -> list[Space]:
    return availability.spaces_in_use(session, site_id=console_site_id(), kind=kind)


def _seat_choices(session: Session) -> dict[str, list[tuple[int, str]]]:
    """The centre's seats grouped by study room, for the seat choice."""
    # Each seat says its room too: a closed choice shows only the chosen option.
    return {
        booking_words.space_name(space): [
            (seat.id, f"{booking_words.space_name(space)} · {booking_words.seat_name(seat.number)}")
            for seat in space.seats
        ]
        for space in _spaces(session, SpaceKind.STUDY)
    }


def _room_choices(session: Session) -> list[tuple[int, str]]:
    return [
        (space.id, booking_words.space_name(space))
        for space in _spaces(session, SpaceKind.ACTIVITY)
    ]


def _member(session: Session, resident_id: int) -> Resident:
    return resident_service.get_member(session, site_id=console_site_id(), resident_id=resident_id)


def _period(site: Site, form: SeatForAResidentForm | RoomForAResidentForm) -> tuple[Any, Any]:
    starts_at = booking_rules.at_local(site, form.day.data, form.start.data)
    return starts_at, starts_at + timedelta(minutes=int(form.minutes.data))


def _show(kind: str, resident_id: int, form: Any, status: int = 200) -> ResponseReturnValue:
    with database().read() as session:
        member = _member(session, resident_id)
        return render_template(
            "staff/resident_book.html", kind=kind, resident=member, form=form
        ), status


def _booked(booking: Booking, member: Resident, site: Site) -> str:
    when = booking_words.period_text(booking.starts_at, booking.ends_at, site.timezone)
    if booking.status is BookingStatus.PENDING:
        return str(
            _(
                "Booked for %(name)s, %(when)s: it waits for approval, as at the kiosk.",
                name=member.name,
                when=when,
            )
        )
    return str(_("Booked for %(name)s, %(when)s.", name=member.name, when=when))


def _refused(form: Any, member_name: str, words: str) -> None:
    form.form_errors.append(
        _(
            "Nothing was booked for %(name)s. The kiosk says: %(words)s",
            name=member_name,
            words=words,
        )  # fmt: skip
    )


def _booking_page(
    kind: str,
    resident_id: int,
    form: Any,
    choices: Callable[[Session], Any],
    book: Callable[[Session, Any, datetime, datetime], object],
) -> ResponseReturnValue:
    """The form for a seat or a room (its field named like ``kind``), then the booking."""
    with database().read() as session:
        _member(session, resident_id)
        form[kind].choices = choices(session)
    if not form.is_submitted():
        return _show(kind, resident_id, form)
    if not form.validate():
        return _show(kind, resident_id, form, 400)
    return _book(kind, resident_id, form, book)


def book_seat(resident_id: int) -> ResponseReturnValue:
    """A study seat for the resident, with the kiosk's rules (quota, suspension, grid)."""
    form = SeatForAResidentForm()
    return _booking_page(
        "seat", resident_id, form, _seat_choices,
        lambda session, site, starts_at, ends_at: for_residents.book_seat(
            session, staff=g.staff, resident_id=resident_id, seat_id=form.seat.data,
            starts_at=starts_at, ends_at=ends_at, now=clock().now(),
        ),
    )  # fmt: skip


def book_room(resident_id: int) -> ResponseReturnValue:
    """An activity room for the resident's group; one that needs approval waits for it."""
    form = RoomForAResidentForm()
    return _booking_page(
        "room", resident_id, form, _room_choices,
        lambda session, site, starts_at, ends_at: for_residents.book_room(
            session, staff=g.staff, resident_id=resident_id, space_id=form.room.data,
            starts_at=starts_at, ends_at=ends_at, headcount=int(form.headcount.data),
            purpose=(form.purpose.data or "").strip(), now=clock().now(),
        ),
    )  # fmt: skip


def _book(kind: str, resident_id: int, form: Any, book: Any) -> ResponseReturnValue:
    try:
        with database().write() as session:
            member = _member(session, resident_id)
            site = session.get_one(Site, console_site_id())
            starts_at, ends_at = _period(site, form)
            booking = book(session, site, starts_at, ends_at)
            message = _booked(booking, member, site)
    except NotFound as error:
        if error.details.get("field") not in ("seat", "room"):
            raise
        form.form_errors.append(_("That no longer exists."))
        return _show(kind, resident_id, form, 404)
    except DomainError as error:
        with database().read() as session:
            member = _member(session, resident_id)
            site = session.get_one(Site, console_site_id())
            _refused(form, member.name, kiosk_words(error, site))
        return _show(kind, resident_id, form, error.status)
    flash(message, "success")
    return redirect(url_for("staff.resident", resident_id=resident_id, _anchor="bookings"), 303)


def cancel_booking(resident_id: int, booking_id: int) -> ResponseReturnValue:
    """Cancel the resident's booking for them (before it begins), as the kiosk would."""
    form = ActForAResidentForm()
    back = redirect(url_for("staff.resident", resident_id=resident_id, _anchor="bookings"), 303)
    if not form.validate_on_submit():
        flash(_("Nothing was cancelled: the form had expired. Please try again."), "error")
        return back
    try:
        with database().write() as session:
            member = _member(session, resident_id)
            for_residents.cancel(
                session, staff=g.staff, resident_id=member.id, booking_id=booking_id,
                now=clock().now(),
            )  # fmt: skip
            name = member.name
    except DomainError as error:
        if isinstance(error, NotFound):
            raise
        with database().read() as session:
            site = session.get_one(Site, console_site_id())
            flash(
                _(
                    "Nothing was cancelled. The kiosk says: %(words)s",
                    words=kiosk_words(error, site),
                ),
                "error",
            )
        return back
    flash(_("Cancelled for %(name)s.", name=name), "success")
    return back


def page_extras(session: Session, member: Resident, upcoming: list[Any]) -> dict[str, Any]:
    """What the resident's page needs to act for them: the cancel buttons' bookings and
    token, the pickups staff started that the locker has not finished, and the tools held
    for the resident to collect."""
    now = clock().now()
    return {
        "cancellable": {
            line.booking.id
            for line in upcoming
            if line.booking.status in CANCELLABLE and line.booking.starts_at > now
        },
        "act_form": ActForAResidentForm(),
        "pickups": live_pickups(session, member),
        "holds": live_holds(session, member),
    }
