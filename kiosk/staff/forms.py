"""The console's forms. Every one that changes something carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional

from booking.people.residents import MAX_QUERY_LENGTH
from booking.people.staff import MIN_PASSWORD_LENGTH


class SignInForm(FlaskForm):  # type: ignore[misc]
    username = StringField(
        _l("Username"),
        validators=[
            InputRequired(_l("Enter your username.")),
            Length(max=40, message=_l("Username or password is wrong.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(_l("Enter your password.")),
            Length(max=200, message=_l("Username or password is wrong.")),
        ],
    )
    next = HiddenField()


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    current = PasswordField(
        _l("Current password"), validators=[InputRequired(_l("Enter your current password."))]
    )
    new = PasswordField(
        _l("New password"),
        validators=[
            InputRequired(_l("Enter a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l(
                    "The new password must be %(min)d to 200 characters.", min=MIN_PASSWORD_LENGTH
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            InputRequired(_l("Enter the new password again.")),
            EqualTo("new", message=_l("The two new passwords differ.")),
        ],
    )


class SignOutForm(FlaskForm):  # type: ignore[misc]
    """Sign-out is a POST with a token, so another site cannot sign staff out with a link."""


class LanguageForm(FlaskForm):  # type: ignore[misc]
    # Checked against the configured languages by ``kiosk.i18n.choose_locale``.
    locale = StringField(validators=[InputRequired()])
    next = HiddenField()


class SiteSwitchForm(FlaskForm):  # type: ignore[misc]
    """The header's centre switcher (and the district overview's buttons): a centre's slug,
    checked against the centres the account works at by ``booking.people.staff_sites``."""

    site = StringField(validators=[InputRequired(), Length(max=40)])


class SiteGrantForm(FlaskForm):  # type: ignore[misc]
    """A district admin lets an account work at another centre (the centre's slug), managing
    it there when ``as_admin`` is ticked."""

    site = StringField(validators=[InputRequired(), Length(max=40)])
    as_admin = BooleanField()


class SiteRevokeForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the account and centre are in the address."""


class NextQueryForm(FlaskForm):  # type: ignore[misc]
    """Where the sign-in page was asked to lead afterwards (``?next=``), checked before use."""

    class Meta:
        csrf = False

    next = StringField()


def query_text(form: FlaskForm, names: Iterable[str]) -> dict[str, str | None]:
    """The filter fields as the browser sent them (a date as typed, not as parsed), for the
    links that carry the same filter to another page; None for one left empty."""
    return {name: (form[name].raw_data or [""])[0] or None for name in names}


class ResidentSearchForm(FlaskForm):  # type: ignore[misc]
    """A GET search: nothing changes, so no CSRF token (it would also leak into URLs)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Name, phone or card"),
        validators=[
            Optional(),
            Length(
                max=MAX_QUERY_LENGTH,
                message=_l("Search text is at most %(max)d characters.", max=MAX_QUERY_LENGTH),
            ),
        ],
    )
    page = IntegerField(
        invalid_value_message=_l("Page must be a whole number from 1."),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("Page must be a whole number from 1.")),
        ],
    )
    # Whose accounts: all, the active ones, the deactivated ones (booking.people.deactivation).
    status = SelectField(
        _l("Accounts"),
        choices=[
            SelectChoice("", _l("All")),
            SelectChoice("active", _l("Active")),
            SelectChoice("deactivated", _l("Deactivated")),
        ],
        validate_choice=True,
        default="",
    )
