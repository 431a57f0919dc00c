"""The forms of a resident's account page: cards, deactivation, reactivation, merging."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from booking.people.cards import CARD_MAX, CARD_PATTERN
from booking.people.models.residents import DeactivationReason

REASON_LABELS = {
    DeactivationReason.MOVED_AWAY: _l("Moved away"),
    DeactivationReason.DECEASED: _l("Deceased"),
    DeactivationReason.OTHER: _l("Other"),
    DeactivationReason.MERGED: _l("Merged into another account"),
}
OTHER_ACCOUNT_MAX = 20


class ReadCardForm(FlaskForm):  # type: ignore[misc]
    """Wait for the resident's tap at the chosen terminal (choices set by the page)."""

    terminal = SelectField(
        _l("Terminal with the card reader"),
        validate_choice=True,
        validators=[InputRequired(_l("Choose the terminal."))],
    )


class TypeCardForm(FlaskForm):  # type: ignore[misc]
    card_id = StringField(
        _l("Card number"),
        validators=[
            InputRequired(_l("Type the card number.")),
            Length(
                max=CARD_MAX,
                message=_l("A card number is at most %(max)d characters.", max=CARD_MAX),
            ),
            Regexp(CARD_PATTERN, message=_l("A card number has only letters, digits, - and _.")),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


class UnbindCardForm(FlaskForm):  # type: ignore[misc]
    confirm = BooleanField(
        _l("The card is lost or handed back: it stops working now"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class DeactivateForm(FlaskForm):  # type: ignore[misc]
    reason = RadioField(
        _l("Why"),
        choices=[
            SelectChoice(reason.value, REASON_LABELS[reason])
            for reason in (
                DeactivationReason.MOVED_AWAY,
                DeactivationReason.DECEASED,
                DeactivationReason.OTHER,
            )
        ],
        validate_choice=True,
        validators=[InputRequired(_l("Choose why."))],
    )
    confirm = BooleanField(
        _l("I understand: the resident can no longer sign in and their bookings are cancelled"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class ReactivateForm(FlaskForm):  # type: ignore[misc]
    confirm = BooleanField(
        _l("The resident may sign in again"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class MergeForm(FlaskForm):  # type: ignore[misc]
    other = StringField(
        _l("The other account: its number or phone"),
        validators=[
            InputRequired(_l("Type the other account's number or phone.")),
            Length(
                max=OTHER_ACCOUNT_MAX,
                message=_l("At most %(max)d characters.", max=OTHER_ACCOUNT_MAX),
            ),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )
    survivor = RadioField(
        _l("Which account stays"),
        choices=[
            SelectChoice("this", _l("This account stays; the other is merged into it")),
            SelectChoice("other", _l("The other account stays; this one is merged into it")),
        ],
        validate_choice=True,
        validators=[InputRequired(_l("Choose which account stays."))],
    )
    confirm = BooleanField(
        _l("I have checked that both accounts are the same person"),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )
