"""The alerts inbox's forms: acknowledge (note optional), resolve (note required), history filter."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from booking.alerts.operations import MAX_NOTE
from kiosk.form_dates import CenturyDateField


class AcknowledgeForm(FlaskForm):  # type: ignore[misc]
    # The page to go back to, where one form serves several pages (checked before use).
    next = HiddenField()
    note = TextAreaField(
        _l("Note (optional)"),
        validators=[
            Optional(),
            Length(max=MAX_NOTE, message=_l("A note is at most %(max)d characters.", max=MAX_NOTE)),
        ],
    )


class ResolveForm(FlaskForm):  # type: ignore[misc]
    next = HiddenField()
    note = TextAreaField(
        _l("What was done"),
        validators=[
            InputRequired(_l("Say what was done.")),
            Length(max=MAX_NOTE, message=_l("A note is at most %(max)d characters.", max=MAX_NOTE)),
        ],
    )

    def validate_note(self, field: TextAreaField) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_l("Say what was done."))


class HistoryFilterForm(FlaskForm):  # type: ignore[misc]
    """A GET filter: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), choices=[], validate_choice=True, default="")
    date_from = CenturyDateField(_l("Resolved from"), validators=[Optional()], format="%Y-%m-%d")
    date_to = CenturyDateField(_l("Resolved until"), validators=[Optional()], format="%Y-%m-%d")
    page = IntegerField(
        invalid_value_message=_l("Page must be a whole number from 1."),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("Page must be a whole number from 1.")),
        ],
    )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
