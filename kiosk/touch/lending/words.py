"""What the kiosk says about lending: refusals, why a pickup or return ended, and the steps."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from booking.core.errors import DomainError
from booking.lending.models.door_sessions import DoorPurpose, ReleaseReason
from kiosk.touch.messages import message_for

REFUSALS: dict[str, LazyString] = {
    "no_item_available": _l(
        "Sorry, none of these is free in the lockers right now. "
        "Please choose another tool or ask at the service desk."
    ),
    "item_unavailable": _l("Sorry, this tool cannot be lent right now. Please ask the staff."),
    "loan_limit_reached": _l(
        "You already have %(number)d tools. Please return one before borrowing another."
    ),
    "lending_suspended": _l(
        "Because tools came back late, you cannot borrow until %(time)s. "
        "Please ask the staff if you need help."
    ),
    "overdue_loan_outstanding": _l(
        "A tool you borrowed is overdue. Please return it before borrowing another."
    ),
    "not_in_locker": _l("This tool goes back to the service desk. Please bring it to the staff."),
    "wrong_lending_state": _l(
        "That has already been done. The current state is shown on the page."
    ),
    "invalid_condition": _l("Please choose one of the answers."),
    "devices_unavailable": _l(
        "The lockers are not connected right now. Please ask the staff at the service desk."
    ),
    "tool_fully_reserved": _l(
        "Sorry, this tool is already reserved for that time. Please choose another day or time."
    ),
    "item_free_now": _l("One is free now: you can borrow it straight away, no need to queue."),
    "already_reserved": _l("You have already reserved or queued for this tool. See My tools."),
    "reservation_window_invalid": _l("Please choose a day and a time from the list."),
    "reservation_not_found": _l("This reservation was not found. It may have ended already."),
    "renewal_limit_reached": _l(
        "This tool has been renewed as many times as allowed. Please return it by its date."
    ),
    "others_waiting": _l(
        "Sorry, other residents are waiting for this tool, so it cannot be renewed. "
        "Please return it by its date."
    ),
}
CHOOSE_WINDOW = _l("Please choose a day and a time from the list.")
HELD_UNTIL = _l("Ready in the locker, kept for you until %(time)s.")
IN_QUEUE = _l("Waiting: you are number %(number)d in the queue.")
RESERVED_FOR = _l("Reserved for %(time)s to %(end)s.")
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"),
            _l("Saturday"), _l("Sunday"))  # fmt: skip


def day_label(day: date) -> str:
    """A day as a resident reads it on a button: "11-25 Wednesday"."""
    return f"{day.strftime('%m-%d')} {WEEKDAYS[day.weekday()]}"


def moment_label(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{day_label(local.date())} {local.strftime('%H:%M')}"


PICKUP_ENDED: dict[ReleaseReason, LazyString] = {
    ReleaseReason.DEVICE_OFFLINE: _l(
        "The locker is not connected right now, so nothing was lent. "
        "Please try again later or ask the staff."
    ),
    ReleaseReason.REJECTED: _l(
        "The locker could not open the compartment, so nothing was lent. "
        "Please ask the staff for help."
    ),
    ReleaseReason.TIMED_OUT: _l(
        "The locker did not answer in time, so nothing was lent. Please try again."
    ),
    ReleaseReason.JAMMED: _l(
        "The compartment's lock is stuck, so nothing was lent. The staff have been told."
    ),
    ReleaseReason.DOOR_NOT_OPENED: _l(
        "The door was not opened within a minute, so it locked again and nothing was lent. "
        "You can try again."
    ),
    ReleaseReason.ITEM_LEFT_INSIDE: _l(
        "The door was closed with the tool still inside, so nothing was lent. You can try again."
    ),
    ReleaseReason.COMPARTMENT_NOT_FREE: _l(
        "The compartment did not close in time, so nothing was lent. Please ask the staff for help."
    ),
    ReleaseReason.HOLD_EXPIRED: _l("The tool was kept for you for 2 hours and has been released."),
    ReleaseReason.CANCELLED: _l("This pickup was cancelled. Nothing was lent."),
}

RETURN_ENDED: dict[ReleaseReason, LazyString] = {
    ReleaseReason.DEVICE_OFFLINE: _l(
        "The locker is not connected right now. The tool is still lent to you: "
        "please try again later or bring it to the service desk."
    ),
    ReleaseReason.REJECTED: _l(
        "The locker could not open the compartment. The tool is still lent to you: "
        "please bring it to the service desk."
    ),
    ReleaseReason.TIMED_OUT: _l(
        "The locker did not answer in time. The tool is still lent to you. Please try again."
    ),
    ReleaseReason.JAMMED: _l(
        "The compartment's lock is stuck; the staff have been told. "
        "Please bring the tool to the service desk."
    ),
    ReleaseReason.DOOR_NOT_OPENED: _l(
        "The door was not opened within a minute, so it locked again. "
        "The tool is still lent to you. You can try again."
    ),
    ReleaseReason.NOTHING_RETURNED: _l(
        "The door was closed but the compartment is still empty. "
        "The tool is still lent to you. Please try again."
    ),
    ReleaseReason.COMPARTMENT_OCCUPIED: _l(
        "Something is already in that compartment, so it cannot take the tool back. "
        "The staff have been told: please bring the tool to the service desk."
    ),
    ReleaseReason.COMPARTMENT_NOT_FREE: _l(
        "The compartment did not close in time. The tool is still lent to you: "
        "please bring it to the service desk."
    ),
    ReleaseReason.CANCELLED: _l("This return was cancelled. The tool is still lent to you."),
}

OPENING = _l("Opening compartment %(number)d…")
# The compartment's last door cycle is not over (its door is closing, its bolt relocking).
CLOSING = _l(
    "Compartment %(number)d is just closing. Please wait a moment: it opens for you by itself."
)
OPEN_TAKE = _l("Compartment %(number)d is unlocked. Open its door and take the tool.")
DOOR_OPEN_TAKE = _l("Take the tool, then close the door firmly.")
OPEN_PUT = _l("Compartment %(number)d is unlocked. Open its door and put the tool inside.")
DOOR_OPEN_PUT = _l("Put the tool inside, then close the door firmly.")
UNKNOWN_END = _l("Something went wrong. Please ask the staff for help.")


def refusal(error: DomainError, *, timezone: str) -> str:
    """The sentence for a lending refusal (other codes: the kiosk's general messages)."""
    template = REFUSALS.get(error.code)
    if template is None:
        return message_for(error, timezone=timezone)
    if error.code == "loan_limit_reached":
        limit = error.details.get("limit")
        return str(template) % {"number": limit if isinstance(limit, int) else 3}
    if error.code == "lending_suspended":
        until = error.details.get("until")
        shown = (
            until.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
            if isinstance(until, datetime)
            else ""
        )
        return str(template) % {"time": shown}
    return str(template)


ENDED = {DoorPurpose.PICKUP: PICKUP_ENDED, DoorPurpose.RETURN: RETURN_ENDED}


def ended(purpose: DoorPurpose, reason: ReleaseReason | None) -> str:
    """Why a pickup or return ended without its goal, in the resident's words."""
    words = ENDED[purpose].get(reason) if reason is not None else None
    return str(words or UNKNOWN_END)
