"""What the console says when a booking rule refuses a staff action, next to the field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm

from booking.core.errors import DomainError

MESSAGES: dict[str, LazyString] = {
    "slot_taken": _l("Someone already holds the room then."),
    "off_grid": _l("Times start and end on the hour or the half hour."),
    "outside_opening_hours": _l("The room is not open for all of that time."),
    "over_capacity": _l("More people than the room holds."),
    "space_closed": _l("The room is closed then."),
    "wrong_booking_state": _l("This booking has changed meanwhile; nothing was done."),
    "suspension_not_active": _l("This suspension is no longer in force; nothing was changed."),
    "not_found": _l("That no longer exists."),
}
# Invalid input names its field; the sentence depends on which.
FIELD_MESSAGES: dict[str, LazyString] = {
    "title": _l("Give a title of 1 to 100 characters."),
    "weekday": _l("That weekday does not fall between the first and last date."),
    "ends_on": _l("The last date is on or after the first, within a year."),
    "ends_at": _l("The end must come after the start, and not be over already."),
    "starts_at": _l("Give a valid start."),
    "on_date": _l("That date is not one of the series' meetings."),
    "last_date": _l("The series already ends by then."),
    "reason": _l("Give a reason of 1 to 300 characters."),
    "headcount": _l("At least one person."),
}
FALLBACK = _l("That cannot be done; nothing was changed.")


def show_error(form: FlaskForm, error: DomainError, fields: dict[str, str] | None = None) -> None:
    """Put ``error`` next to the form field it concerns, else above the form.

    ``fields`` maps a domain field name to the form's, where they differ.
    """
    domain_field = str(error.details.get("field", ""))
    name = (fields or {}).get(domain_field, domain_field)
    message = FIELD_MESSAGES.get(domain_field) if error.code == "invalid_input" else None
    message = message or MESSAGES.get(error.code, FALLBACK)
    target = getattr(form, name, None) if name else None
    if target is not None and hasattr(target, "errors"):
        target.errors = [*target.errors, message]
    else:
        form.form_errors.append(message)
