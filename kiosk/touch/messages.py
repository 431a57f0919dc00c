"""What the kiosk says when a rule says no: one place mapping domain error codes to words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from booking.core.errors import DomainError
from kiosk.touch.spaces import words as booking_words

MESSAGES: dict[str, LazyString] = {
    "sign_in_failed": _l("The phone number or PIN is not right. Please try again."),
    "session_expired": _l("You have been signed out. Please sign in again."),
    "invalid_input": _l("Please check what you entered and try again."),
    "not_found": _l("We could not find that. Please ask the staff for help."),
    "conflict": _l("That cannot be done right now. Please ask the staff for help."),
    # --- booking seats and rooms ---
    "slot_taken": _l(
        "Sorry, someone else has just taken that time. "
        "Please choose another time, or join the waiting list."
    ),
    "off_grid": _l("Bookings start and end on the hour or half hour. Please choose from the list."),
    "outside_booking_window": _l(
        "That day cannot be booked yet, or the time is already over. Please choose from the list."
    ),
    "outside_opening_hours": _l(
        "The centre is not open then, or closes too soon. Please choose another time."
    ),
    "booking_too_long": _l("That is longer than one booking may be. Please choose a shorter time."),
    "daily_limit_reached": _l(
        "That is more than the study seat time allowed in one day. "
        "You have %(number)d minutes left that day."
    ),
    "resident_busy": _l("You already have a seat at that time. You can see it under My bookings."),
    "resident_suspended": _l(
        "Because of missed bookings you cannot book study seats until %(time)s. "
        "Please ask the staff if you need help."
    ),
    "space_closed": _l("The room is closed at that time. Please choose another time."),
    "space_retired": _l("This room is no longer in use. Please ask the staff for help."),
    "tool_type_retired": _l("This tool is no longer lent. Please ask the staff for help."),
    "over_capacity": _l("The room holds at most %(number)d people. Please choose fewer."),
    "wrong_booking_state": _l(
        "That cannot be done with this booking now. Its current state is shown on the page."
    ),
    "check_in_too_early": _l("It is too early to check in. You can check in from %(time)s."),
    "check_in_closed": _l(
        "Check-in has closed: it was open until %(time)s. Please book again or ask the staff."
    ),
    "leave_expired": _l(
        "You were away for too long, so the seat has been given back. Please book again."
    ),
    "cancel_too_late": _l("This booking has already begun, so it can no longer be cancelled."),
    "slot_free": _l("Good news: that time is free, so there is no need to wait. Book it now."),
    "already_queued": _l("You are already on the waiting list for that time."),
    "offer_expired": _l("Sorry, the offer has run out: it was kept for you for a limited time."),
}
FALLBACK = _l("Something went wrong. Please ask the staff for help.")

# Which detail of an error its sentence shows: a time on the site's clock, or a number.
TIME_DETAILS = {
    "resident_suspended": "until",
    "check_in_too_early": "opens_at",
    "check_in_closed": "closed_at",
}
NUMBER_DETAILS = {"daily_limit_reached": "minutes_left", "over_capacity": "capacity"}


def message_for(error: DomainError, *, timezone: str) -> str:
    """The resident-facing sentence for ``error``, with times shown in the site's ``timezone``."""
    template = MESSAGES.get(error.code, FALLBACK)
    text = str(template)
    moment = error.details.get(TIME_DETAILS.get(error.code, ""))
    if isinstance(moment, datetime):
        local = moment.astimezone(ZoneInfo(timezone))
        shown = local.strftime("%H:%M")
        if error.code == "resident_suspended":
            shown = f"{booking_words.day_text(local.date())} {shown}"
        return text % {"time": shown}
    number = error.details.get(NUMBER_DETAILS.get(error.code, ""))
    if isinstance(number, int):
        return text % {"number": number}
    return text
