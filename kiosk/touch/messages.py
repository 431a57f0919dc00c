"""What the kiosk says when a rule says no: one place mapping domain error codes to words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_babel.speaklater import LazyString

from booking.errors import DomainError

MESSAGES: dict[str, LazyString] = {
    "sign_in_failed": _l("The phone number or PIN is not right. Please try again."),
    "resident_locked_out": _l(
        "Too many wrong tries. This phone number is locked for 15 minutes, until %(time)s. "
        "Please try again after that, or ask the staff for help."
    ),
    "session_expired": _l("You have been signed out. Please sign in again."),
    "invalid_input": _l("Please check what you entered and try again."),
    "not_found": _l("We could not find that. Please ask the staff for help."),
    "conflict": _l("That cannot be done right now. Please ask the staff for help."),
}
FALLBACK = _l("Something went wrong. Please ask the staff for help.")


def message_for(error: DomainError, *, timezone: str) -> str:
    """The resident-facing sentence for ``error``, with times shown in the site's ``timezone``."""
    template = MESSAGES.get(error.code, FALLBACK)
    until = error.details.get("until")
    if error.code == "resident_locked_out" and isinstance(until, datetime):
        return str(template) % {"time": until.astimezone(ZoneInfo(timezone)).strftime("%H:%M")}
    text = str(template)
    attempts_left = error.details.get("attempts_left")
    if error.code == "sign_in_failed" and isinstance(attempts_left, int):
        # Chinese sentences follow a full stop directly; English ones after a space.
        text += ("" if text.endswith("。") else " ") + ngettext(
            "You can try %(num)d more time before this phone number is locked.",
            "You can try %(num)d more times before this phone number is locked.",
            attempts_left,
        )
    return text
