"""The administration forms (admins only): hours, spaces and seats, tools and items, devices,
lending policy. Each carries a CSRF token; the ranges match ``booking.admin.centre``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from booking.admin import centre as centre_admin
from booking.admin import space_rules as space_rules_admin
from booking.admin import tools as tools_admin
from devices.fleet.provisioning import ID_PATTERN, MAX_COMPARTMENTS, MAX_NAME_LENGTH

WHOLE = _l("Enter a whole number.")


def _whole(label: str | object, low: int, high: int, *, required: bool = True) -> IntegerField:
    return IntegerField(
        label,
        invalid_value_message=WHOLE,
        validators=[
            InputRequired(WHOLE) if required else Optional(),
            NumberRange(
                min=low,
                max=high,
                message=_l("Enter a whole number from %(min)d to %(max)d.", min=low, max=high),
            ),
        ],
    )


def _name(label: str | object, max_length: int = 100) -> StringField:
    return StringField(
        label,
        validators=[
            InputRequired(_l("This is required.")),
            Length(max=max_length, message=_l("At most %(max)d characters.", max=max_length)),
        ],
    )


def _long_text(label: str | object) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            Optional(),
            Length(max=2000, message=_l("At most %(max)d characters.", max=2000)),
        ],
    )


class HoursForm(FlaskForm):  # type: ignore[misc]
    """The centre itself: names, address and opening hours."""

    name_zh = _name(_l("Name in Chinese"))
    name_en = _name(_l("Name in English"))
    address = StringField(
        _l("Address"),
        validators=[
            Optional(),
            Length(max=200, message=_l("At most %(max)d characters.", max=200)),
        ],
    )
    opens_at = TimeField(_l("Opens at"), validators=[InputRequired(_l("Enter a time."))])
    closes_at = TimeField(_l("Closes at"), validators=[InputRequired(_l("Enter a time."))])


class SpaceForm(FlaskForm):  # type: ignore[misc]
    name_zh = _name(_l("Name (Chinese)"))
    name_en = _name(_l("Name (English)"))
    capacity = _whole(_l("Capacity (people)"), 1, centre_admin.MAX_CAPACITY)
    needs_approval = BooleanField(_l("Bookings need staff approval"))
    opens_at = TimeField(_l("Opens at (empty: the centre's hours)"), validators=[Optional()])
    closes_at = TimeField(_l("Closes at (empty: the centre's hours)"), validators=[Optional()])


SPACE_KIND_CHOICES = [
    SelectChoice("study", _l("Study room")),
    SelectChoice("activity", _l("Activity room")),
]


class NewSpaceForm(SpaceForm):
    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(_l("This is required.")),
            Length(max=40, message=_l("At most %(max)d characters.", max=40)),
            Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Use letters, digits, - and _ only.")),
        ],
    )
    kind = SelectField(
        _l("Kind"),
        choices=SPACE_KIND_CHOICES,
        validators=[InputRequired(_l("This is required."))],
    )


class RetireForm(FlaskForm):  # type: ignore[misc]
    """Retiring a space or tool type: a deliberate POST with its CSRF token, nothing else."""


class SeatForm(FlaskForm):  # type: ignore[misc]
    has_power = BooleanField(_l("Power socket"))
    by_window = BooleanField(_l("By the window"))
    quiet_zone = BooleanField(_l("Quiet zone"))
    map_row = _whole(_l("Row on the map"), 0, centre_admin.MAX_MAP_CELL)
    map_col = _whole(_l("Column on the map"), 0, centre_admin.MAX_MAP_CELL)


class NewSeatForm(SeatForm):
    number = _whole(_l("Seat number"), 1, centre_admin.MAX_SEAT_NUMBER)


class SeatRowsForm(FlaskForm):  # type: ignore[misc]
    first = _whole(_l("First seat number"), 1, centre_admin.MAX_SEAT_NUMBER)
    last = _whole(_l("Last seat number"), 1, centre_admin.MAX_SEAT_NUMBER)
    per_row = _whole(_l("Seats per row on the map"), 1, centre_admin.MAX_MAP_CELL)


def _rule(name: str, label: str | object) -> IntegerField:
    bound = space_rules_admin.BOUNDS[name]
    return _whole(label, bound.low, bound.high, required=False)


class SpaceRulesForm(FlaskForm):  # type: ignore[misc]
    """A space's own booking rules (``booking.admin.space_rules``); a field left empty follows
    the default of the space's kind."""

    bookable_days = _rule("bookable_days", _l("Days ahead a booking may be made (today counts)"))
    grid_minutes = _rule("grid_minutes", _l("Time grid in minutes (15, 30 or 60)"))
    max_booking_minutes = _rule("max_booking_minutes", _l("Longest booking, in minutes"))
    max_minutes_per_day = _rule("max_minutes_per_day", _l("Minutes one resident may book a day"))
    check_in_early_minutes = _rule(
        "check_in_early_minutes", _l("Check-in opens, minutes before the start")
    )
    check_in_late_minutes = _rule(
        "check_in_late_minutes", _l("Check-in closes, minutes after the start")
    )
    max_leave_minutes = _rule("max_leave_minutes", _l("Longest break away from a seat, in minutes"))
    strikes_to_suspend = _rule("strikes_to_suspend", _l("No-shows that suspend booking"))
    strike_window_days = _rule("strike_window_days", _l("Days over which no-shows count"))
    suspension_days = _rule("suspension_days", _l("Days a suspension lasts"))
    offer_minutes = _rule("offer_minutes", _l("Minutes a waitlist offer is held"))


class ToolTypeForm(FlaskForm):  # type: ignore[misc]
    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(_l("This is required.")),
            Length(max=40, message=_l("At most %(max)d characters.", max=40)),
            Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Use letters, digits, - and _ only.")),
        ],
    )
    name_zh = _name(_l("Name (Chinese)"))
    name_en = _name(_l("Name (English)"))
    loan_days = _whole(_l("Loan period (days)"), 1, tools_admin.MAX_LOAN_DAYS)
    description_zh = _long_text(_l("Description (Chinese)"))
    description_en = _long_text(_l("Description (English)"))
    safety_note_zh = _long_text(_l("Safety note (Chinese)"))
    safety_note_en = _long_text(_l("Safety note (English)"))


ITEM_STATUS_CHOICES = [
    SelectChoice("available", _l("Available")),
    SelectChoice("maintenance", _l("In maintenance")),
    SelectChoice("lost", _l("Lost")),
]


class ItemForm(FlaskForm):  # type: ignore[misc]
    asset_tag = StringField(
        _l("Asset tag"),
        validators=[
            InputRequired(_l("This is required.")),
            Length(max=40, message=_l("At most %(max)d characters.", max=40)),
            Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Use letters, digits, - and _ only.")),
        ],
    )
    tool_type = SelectField(_l("Tool type"), choices=[], coerce=int, validate_choice=True)
    # "" is the counter; otherwise a locker's device id.
    locker = SelectField(_l("Kept in"), choices=[], validate_choice=True, default="")
    compartment = _whole(_l("Compartment"), 1, tools_admin.MAX_COMPARTMENT, required=False)
    status = SelectField(_l("Status"), choices=ITEM_STATUS_CHOICES, validate_choice=True)

    def validate(self, extra_validators: object = None) -> bool:
        ok: bool = super().validate(extra_validators)
        if self.locker.data and self.compartment.data is None:
            self.compartment.errors = [*self.compartment.errors, _l("Choose a compartment.")]
            ok = False
        if not self.locker.data and self.compartment.data is not None:
            self.compartment.errors = [
                *self.compartment.errors,
                _l("Items at the counter have no compartment."),
            ]
            ok = False
        return ok


class DeviceForm(FlaskForm):  # type: ignore[misc]
    """Registering a locker (its label and compartment count) or a terminal (its kind)."""

    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("locker", _l("Smart locker")),
            SelectChoice("bp_terminal", _l("Blood-pressure terminal")),
            SelectChoice("kiosk_reader", _l("Kiosk card and QR reader")),
        ],
        validate_choice=True,
    )
    device_id = StringField(
        _l("Device id"),
        validators=[
            InputRequired(_l("This is required.")),
            Regexp(
                ID_PATTERN.pattern,
                message=_l("1 to 40 of a-z, 0-9 and -, starting with a letter or digit."),
            ),
        ],
    )
    name = StringField(
        _l("Label staff recognise"),
        validators=[
            InputRequired(_l("This is required.")),
            Length(
                max=MAX_NAME_LENGTH, message=_l("At most %(max)d characters.", max=MAX_NAME_LENGTH)
            ),
        ],
    )
    compartments = _whole(_l("Compartments (lockers only)"), 1, MAX_COMPARTMENTS, required=False)

    def validate(self, extra_validators: object = None) -> bool:
        ok: bool = super().validate(extra_validators)
        if (
            self.kind.data == "locker"
            and self.compartments.data is None
            and not (self.compartments.errors)
        ):
            self.compartments.errors = [
                *self.compartments.errors,
                _l("Enter how many compartments the locker has."),
            ]
            ok = False
        if self.kind.data != "locker" and self.compartments.data is not None:
            self.compartments.errors = [
                *self.compartments.errors,
                _l("Only a locker has compartments: leave this empty."),
            ]
            ok = False
        return ok


class DeviceActionForm(FlaskForm):  # type: ignore[misc]
    """Rotating or revoking a device's credentials: a deliberate POST with its CSRF token."""


_LIMITS = tools_admin.POLICY_LIMITS


class LendingPolicyForm(FlaskForm):  # type: ignore[misc]
    max_items_on_loan = _whole(
        _l("Most items one resident may borrow"), *_LIMITS["max_items_on_loan"]
    )
    hold_minutes = _whole(_l("Minutes a reserved item is kept"), *_LIMITS["hold_minutes"])
    door_open_timeout_s = _whole(
        _l("Seconds an unlocked door waits to be opened"), *_LIMITS["door_open_timeout_s"]
    )
    overdue_strikes = _whole(
        _l("Overdue loans that suspend borrowing"), *_LIMITS["overdue_strikes"]
    )
    overdue_window_days = _whole(
        _l("…counted over this many days"), *_LIMITS["overdue_window_days"]
    )
    suspension_days = _whole(_l("Days borrowing is suspended"), *_LIMITS["suspension_days"])
    escalate_after_days = _whole(
        _l("Days overdue before staff are alerted"), *_LIMITS["escalate_after_days"]
    )
    max_renewals = _whole(
        _l("Times a resident may renew a loan (never while others wait)"),
        *_LIMITS["max_renewals"],
    )
    no_show_strikes = SelectField(
        _l("A reserved tool nobody collects in time"),
        choices=[
            SelectChoice(1, _l("Counts as a no-show strike, as for a seat")),
            SelectChoice(0, _l("Is only recorded")),
        ],
        coerce=int,
        validators=[InputRequired(_l("Choose what a no-show counts as."))],
    )
