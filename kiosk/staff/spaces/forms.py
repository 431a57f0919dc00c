"""The console's forms for bookings: the calendar's choice, decisions, series, closures."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from kiosk.form_dates import CenturyDateField, CenturyDateTimeLocalField

REASON_MAX = 300
TITLE_MAX = 100
WEEKDAYS = {
    0: _l("Monday"),
    1: _l("Tuesday"),
    2: _l("Wednesday"),
    3: _l("Thursday"),
    4: _l("Friday"),
    5: _l("Saturday"),
    6: _l("Sunday"),
}
WHOLE_CENTRE = 0  # the closure form's "space" for a closure of every room


def _reason(label: object, required: object) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            InputRequired(required),
            Length(
                max=REASON_MAX,
                message=_l("The reason is at most %(max)d characters.", max=REASON_MAX),
            ),
        ],
    )


class CalendarForm(FlaskForm):  # type: ignore[misc]
    """A GET choice of what to show: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    space = SelectField(_l("Space"), coerce=int, validate_choice=True)
    day = CenturyDateField(_l("Day"), validators=[Optional()])
    view = SelectField(
        _l("Show"),
        choices=[SelectChoice("day", _l("One day")), SelectChoice("week", _l("A week"))],
        validate_choice=True,
        default="day",
    )


class ApproveForm(FlaskForm):  # type: ignore[misc]
    """Approving is a POST with a token, so another site cannot approve with a link."""


class RejectForm(FlaskForm):  # type: ignore[misc]
    reason = _reason(
        _l("Reason the resident will read"), _l("Give a reason the resident can read.")
    )


class SeriesForm(FlaskForm):  # type: ignore[misc]
    space = SelectField(_l("Room"), coerce=int, validate_choice=True)
    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(_l("Give the series a title.")),
            Length(max=TITLE_MAX, message=_l("At most %(max)d characters.", max=TITLE_MAX)),
        ],
    )
    weekday = SelectField(
        _l("Every"),
        coerce=int,
        choices=[SelectChoice(day, label) for day, label in WEEKDAYS.items()],
        validate_choice=True,
    )
    start_time = TimeField(
        _l("From"), validators=[InputRequired(_l("Give the start time, e.g. 09:00."))]
    )
    end_time = TimeField(
        _l("Until"), validators=[InputRequired(_l("Give the end time, e.g. 10:00."))]
    )
    starts_on = CenturyDateField(
        _l("First date"), validators=[InputRequired(_l("Give the first date."))]
    )
    ends_on = CenturyDateField(
        _l("Last date"), validators=[InputRequired(_l("Give the last date."))]
    )
    headcount = IntegerField(
        _l("People"),
        default=1,
        validators=[
            InputRequired(_l("Give the number of people.")),
            NumberRange(min=1, message=_l("At least one person.")),
        ],
    )


class SeriesExceptionForm(FlaskForm):  # type: ignore[misc]
    on_date = CenturyDateField(
        _l("Skip the date"), validators=[InputRequired(_l("Give the date to skip."))]
    )


class SeriesEndForm(FlaskForm):  # type: ignore[misc]
    last_date = CenturyDateField(
        _l("Last meeting on or before"),
        validators=[InputRequired(_l("Give the last date it meets."))],
    )


class ClosureForm(FlaskForm):  # type: ignore[misc]
    space = SelectField(_l("Close"), coerce=int, validate_choice=True)
    starts_at = CenturyDateTimeLocalField(
        _l("From"), validators=[InputRequired(_l("Give the date and time it closes."))]
    )
    ends_at = CenturyDateTimeLocalField(
        _l("Until"), validators=[InputRequired(_l("Give the date and time it opens again."))]
    )
    reason = _reason(_l("Reason residents will read"), _l("Give a reason residents can read."))


class LiftForm(FlaskForm):  # type: ignore[misc]
    reason = _reason(_l("Why lift it"), _l("Say why the suspension is lifted."))
