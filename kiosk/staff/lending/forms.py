"""The lending pages' forms: the records filter (a GET search), counter lending and returns,
and opening a compartment for maintenance (POSTs with a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from booking.lending.records import MAX_QUERY_LENGTH, MAX_REASON_LENGTH
from kiosk.form_dates import CenturyDateField


class RecordsFilterForm(FlaskForm):  # type: ignore[misc]
    """A GET search: nothing changes, so no CSRF token (it would also leak into URLs)."""

    class Meta:
        csrf = False

    resident = StringField(
        _l("Resident (name or phone)"),
        validators=[
            Optional(),
            Length(
                max=MAX_QUERY_LENGTH,
                message=_l("Search text is at most %(max)d characters.", max=MAX_QUERY_LENGTH),
            ),
        ],
    )
    tool_type = SelectField(_l("Tool"), choices=[], validate_choice=True, default="")
    item = StringField(
        _l("Asset tag"),
        validators=[
            Optional(),
            Length(
                max=MAX_QUERY_LENGTH,
                message=_l("Search text is at most %(max)d characters.", max=MAX_QUERY_LENGTH),
            ),
        ],
    )
    status = SelectField(_l("Status"), choices=[], validate_choice=True, default="")
    date_from = CenturyDateField(
        _l("Borrowed from"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    date_to = CenturyDateField(
        _l("Borrowed until"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    overdue = BooleanField(_l("Overdue only"))
    before = HiddenField()

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


class CounterLendForm(FlaskForm):  # type: ignore[misc]
    # "counter" when sent from the counter page, which is where staff go back to.
    back = HiddenField()
    resident = StringField(
        _l("Resident's phone"),
        validators=[InputRequired(_l("Enter the resident's phone.")), Length(max=20)],
    )


class CounterReturnForm(FlaskForm):  # type: ignore[misc]
    back = HiddenField()
    condition = SelectField(
        _l("Condition"),
        choices=[
            SelectChoice("fine", _l("Fine")),
            SelectChoice("damaged", _l("Damaged")),
            SelectChoice("parts_missing", _l("Parts missing")),
        ],
        validators=[InputRequired(_l("Say what condition the item is in."))],
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_REASON_LENGTH)])


class MaintenanceOpenForm(FlaskForm):  # type: ignore[misc]
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(_l("Say why the compartment must open.")),
            Length(
                max=MAX_REASON_LENGTH,
                message=_l("The reason is at most %(max)d characters.", max=MAX_REASON_LENGTH),
            ),
        ],
    )
