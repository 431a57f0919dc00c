"""The forms staff fill in when acting for a resident: a seat, a room, a tool, a cancel.

Choices (seats, rooms, tools) are filled by the page from the staff member's own centre;
``validate_choice`` refuses anything else, so a forged id never reaches a booking rule."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange

from kiosk.form_dates import CenturyDateField

PURPOSE_MAX = 200  # booking.spaces.rooms: a purpose is at most 200 characters
# Lengths on the booking grid (half hours) up to a whole day; the space's rules say how
# long one booking may be, and refuse with the kiosk's words.
LENGTHS = [30 * n for n in range(1, 17)]


def _length_label(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return str(_l("%(minutes)d min", minutes=rest))
    if not rest:
        return str(_l("%(hours)d h", hours=hours))
    return str(_l("%(hours)d h %(minutes)d min", hours=hours, minutes=rest))


class _PeriodForm(FlaskForm):  # type: ignore[misc]
    day = CenturyDateField(_l("Day"), validators=[InputRequired(_l("Give the day."))])
    start = TimeField(
        _l("From"), validators=[InputRequired(_l("Give the start time, e.g. 09:00."))]
    )
    minutes = SelectField(_l("How long"), coerce=int, validate_choice=True, default=120)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.minutes.choices = [SelectChoice(m, _length_label(m)) for m in LENGTHS]


class SeatForAResidentForm(_PeriodForm):
    # Grouped by study room: {room name: [(seat id, label), …]}, filled by the page.
    seat = SelectField(_l("Seat"), coerce=int, validate_choice=True)


class RoomForAResidentForm(_PeriodForm):
    room = SelectField(_l("Activity room"), coerce=int, validate_choice=True)
    headcount = IntegerField(
        _l("People"),
        default=1,
        validators=[
            InputRequired(_l("Give the number of people.")),
            NumberRange(min=1, max=999, message=_l("From 1 to 999 people.")),
        ],
    )
    purpose = StringField(
        _l("What for"),
        validators=[
            Length(max=PURPOSE_MAX, message=_l("At most %(max)d characters.", max=PURPOSE_MAX))
        ],
    )


class ActForAResidentForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something for the resident (lend, cancel): a POST with a token,
    so another site cannot press it with a link."""
