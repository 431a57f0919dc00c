"""API tokens in the console, for admins: make one (its secret shown once, on the page that
answers the form, never again), see them all, revoke one. Each change is audited by
``booking.people.api_tokens``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from booking.core.errors import Conflict, InvalidInput
from booking.core.models.sites import Site
from booking.people import api_tokens
from kiosk.extensions import clock, database
from kiosk.form_dates import CenturyDateField
from kiosk.staff.admin.forms import RetireForm
from kiosk.staff.admin.saving import show_error
from kiosk.staff.auth import admin_required
from kiosk.staff.session import console_site_id

# What the form offers as the last day; the admin may choose up to a year.
DEFAULT_LIFETIME = timedelta(days=90)

SCOPE_LABELS = {
    "availability:read": _l("See free seats and busy rooms"),
    "bookings:read": _l("See bookings"),
    "bookings:write": _l("Book, check in and cancel for residents"),
    "residents:read": _l("See residents (names, phones)"),
    "tools:read": _l("See the tools and how many are free"),
    "lending:read": _l("See residents' loans and tool reservations"),
    "lending:write": _l("Reserve, queue, cancel and renew tools for residents"),
}


class TokenForm(FlaskForm):  # type: ignore[misc]
    name = StringField(
        _l("Name (which program uses it)"),
        validators=[InputRequired(_l("Name the token.")), Length(max=api_tokens.MAX_NAME_LENGTH)],
    )
    scopes = SelectMultipleField(
        _l("What it may do"),
        choices=[SelectChoice(scope, SCOPE_LABELS[scope]) for scope in api_tokens.SCOPES],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validators=[InputRequired(_l("Choose at least one."))],
    )
    expires_on = CenturyDateField(
        _l("Valid until (the end of that day)"),
        validators=[InputRequired(_l("Enter a date."))],
    )


def _end_of(day: date, timezone: str) -> datetime:
    """The last second of ``day`` at the centre: what "valid until" means to an admin."""
    return datetime.combine(day, time(23, 59, 59), ZoneInfo(timezone)).astimezone(UTC)


def _page(form: TokenForm, *, secret: str | None = None, status: int = 200) -> ResponseReturnValue:
    with database().read() as session:
        tokens = api_tokens.tokens_of_site(session, site_id=console_site_id())
        return render_template(
            "staff/admin/api_tokens.html", form=form, tokens=tokens, secret=secret,
            scope_labels=SCOPE_LABELS, revoke_form=RetireForm(), now=clock().now(),
        ), status  # fmt: skip


def _blank_form() -> TokenForm:
    form = TokenForm(formdata=None)
    form.expires_on.data = (clock().now() + DEFAULT_LIFETIME).date()
    return form


@admin_required
def tokens() -> ResponseReturnValue:
    form = TokenForm()
    if not form.is_submitted():
        return _page(_blank_form())
    if not form.validate():
        return _page(form, status=400)
    now = clock().now()
    try:
        with database().write() as session:
            site = session.get_one(Site, console_site_id())
            _token, secret = api_tokens.create_token(
                session, staff=g.staff, name=form.name.data or "", scopes=form.scopes.data or [],
                expires_at=_end_of(form.expires_on.data, site.timezone), now=now,
            )  # fmt: skip
    except (InvalidInput, Conflict) as error:
        show_error(form, error)
        return _page(form, status=400)
    # Shown this once, on this answer: it is stored only as a hash.
    return _page(_blank_form(), secret=secret, status=201)


@admin_required
def revoke(token_id: int) -> ResponseReturnValue:
    if not RetireForm().validate_on_submit():
        abort(400)
    try:
        with database().write() as session:
            api_tokens.revoke(session, staff=g.staff, token_id=token_id, now=clock().now())
    except Conflict:
        flash(_("That token was already revoked."), "error")
    else:
        flash(_("The token is revoked: programs using it are refused from now on."), "success")
    return redirect(url_for("staff.admin_api_tokens"), 303)
