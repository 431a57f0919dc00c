"""How an admin page saves a change: a domain error shown on the form in the admin's words,
a 400 for a refused form, and retiring or restoring something with a confirmed POST."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from booking.core.errors import Conflict, DomainError, InvalidInput, NotFound, StillInUse
from kiosk.extensions import database
from kiosk.staff.admin.forms import RetireForm

# Domain errors about one field, shown on that form field in the admin's language.
CONFLICT_MESSAGES = {
    "asset_tag": _l("That asset tag is in use."),
    "compartment": _l("Another item is kept in that compartment."),
    "code": _l("That code is in use."),
    "number": _l("That seat number exists already."),
    "device_id": _l("That device id is registered already."),
}


# The admin checks' refusals (booking.admin, booking.people.api_tokens), by the ``reason``
# each names, filled from its details. The domain's own sentence is English, for the API
# and the logs; shown after "未保存：" it left a Chinese form with an English reason.
REASONS: dict[str, LazyString] = {
    "required": _l("Fill this in."),
    "too_long": _l("At most %(max_length)s characters."),
    "out_of_range": _l("Give a whole number from %(low)s to %(high)s."),
    "hours_half": _l("Give both the opening and the closing time, or neither."),
    "hours_reversed": _l("The opening time must come before the closing time."),
    "code_chars": _l("A code is letters, digits, - and _ only."),
    "capacity_below_seats": _l("A study room holds at least as many people as it has seats."),
    "space_kind": _l("Choose a study room or an activity room."),
    "seats_study_only": _l("Only study rooms have seats."),
    "seats_reversed": _l("The last seat number must come after the first."),
    "too_many_seats": _l("At most %(most)s seats at once."),
    "seat_map_full": _l("The seat map has no room for so many rows. Put more seats in a row."),
    "grid": _l("The time grid is 15, 30 or 60 minutes."),
    "longest_off_grid": _l("The longest booking must be a multiple of the %(grid)s-minute grid."),
    "daily_below_longest": _l("The daily limit must allow at least one longest booking."),
    "tool_type_elsewhere": _l("Choose a tool type of this centre."),
    "tool_type_retired": _l("That tool type is retired: it takes no new items."),
    "item_status": _l("An item is available, in maintenance or lost."),
    "locker_half": _l("Give both a locker and a compartment, or neither."),
    "locker_elsewhere": _l("Choose a locker of this centre."),
    "token_scopes": _l("Choose one or more of the permissions."),
    "token_expiry": _l("The token must expire after today and within a year."),
}


def reason_words(error: DomainError) -> str:
    """The refusal in the admin's words: by its reason, else the domain's sentence."""
    words = REASONS.get(str(error.details.get("reason", "")))
    if words is None:
        return str(error)
    try:
        return str(words) % {k: v for k, v in error.details.items() if k not in ("reason", "field")}
    except (KeyError, TypeError, ValueError):
        # Another rule's reason of the same name, without these numbers: its own sentence.
        return str(error)


def show_error(form: FlaskForm, error: DomainError) -> None:
    """Put a domain error on the form: on its field when there is one, else on the form."""
    field_name = str(error.details.get("field", "")) if hasattr(error, "details") else ""
    field = getattr(form, field_name, None) if field_name else None
    if isinstance(error, Conflict) and field_name in CONFLICT_MESSAGES:
        message = str(CONFLICT_MESSAGES[field_name])
    else:
        message = _("Not saved: %(reason)s", reason=reason_words(error))
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def save(form: FlaskForm, change: Callable[[Session], object]) -> bool:
    """Run ``change`` in a write transaction; a domain error goes on the form, nothing saved."""
    try:
        with database().write() as session:
            change(session)
    except NotFound:
        raise
    except (InvalidInput, Conflict) as error:
        show_error(form, error)
        return False
    return True


def retire(change: Callable[[Session], object], back: str, **values: Any) -> ResponseReturnValue:
    """Retire something after a confirmed POST; say why when it is still in use."""
    if not RetireForm().validate_on_submit():
        abort(400)
    try:
        with database().write() as session:
            change(session)
    except StillInUse as refused:
        if refused.details.get("series"):
            flash(_("Not retired: %(n)s booking series still meet here. End them first.",
                    n=refused.details.get("count")), "error")  # fmt: skip
        else:
            flash(_("Not retired: %(n)s bookings or loans are still live. Wait until they "
                    "end or cancel them first.", n=refused.details.get("count")), "error")  # fmt: skip
    except Conflict:
        flash(_("It was retired already."), "info")
    else:
        flash(_("Retired. Its history is kept; it takes no new bookings or loans."), "info")
    return redirect(url_for(back, **values), 303)


def restore(change: Callable[[Session], object], back: str, **values: Any) -> ResponseReturnValue:
    """Put something retired back in use after a confirmed POST."""
    if not RetireForm().validate_on_submit():
        abort(400)
    try:
        with database().write() as session:
            change(session)
    except Conflict:
        flash(_("It was in use already: nothing changed."), "info")
    else:
        flash(_("Restored. It is offered at the kiosk again and takes new bookings or loans."),
              "info")  # fmt: skip
    return redirect(url_for(back, **values), 303)


def page(template: str, **context: Any) -> ResponseReturnValue:
    """A form page: 400 when a submitted form was refused, so clients can tell."""
    forms = [value for value in context.values() if isinstance(value, FlaskForm)]
    refused = any(form.is_submitted() and (form.errors or form.form_errors) for form in forms)
    return render_template(template, **context), 400 if refused else 200
