"""The forms an admin uses to look after the centre's staff accounts (kiosk.staff.people.colleagues)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp

from booking.people.staff import MIN_PASSWORD_LENGTH

PASSWORD_LENGTH = _l("A password is %(min)d to 200 characters.", min=MIN_PASSWORD_LENGTH)


def _password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired(_l("Enter a password.")),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=PASSWORD_LENGTH),
        ],
    )


def _again() -> PasswordField:
    return PasswordField(
        _l("The password again"),
        validators=[
            InputRequired(_l("Enter the password again.")),
            EqualTo("password", message=_l("The two passwords differ.")),
        ],
    )


class ColleagueForm(FlaskForm):  # type: ignore[misc]
    username = StringField(
        _l("Username (for signing in)"),
        validators=[
            InputRequired(_l("Enter a username.")),
            Regexp(
                r"^[A-Za-z0-9_.-]{3,40}$",
                message=_l("3 to 40 letters, digits, '_', '.' or '-', with no spaces."),
            ),
        ],
    )
    display_name = StringField(
        _l("Name"),
        validators=[
            InputRequired(_l("Enter the colleague's name.")),
            Length(max=60, message=_l("At most %(max)d characters.", max=60)),
        ],
    )
    password = _password(_l("First password (tell it to them; they change it)"))
    confirm = _again()
    as_admin = BooleanField(_l("Administrator of this centre"))


class ColleaguePasswordForm(FlaskForm):  # type: ignore[misc]
    password = _password(_l("New password"))
    confirm = _again()


class ColleagueSwitchForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the account and what to do are in the address."""
