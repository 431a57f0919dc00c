"""The fields each kiosk page reads, declared once and read through WTForms.

The kiosk's templates draw their own large-print fields (radio tiles, a big PIN pad), so these
classes only read and clean what comes back; the rules that judge the values (a phone's
pattern, a bookable period, a seat of this centre) stay in ``booking`` and answer in the
resident's words. CSRF is already checked for every POST by ``kiosk.csrf`` before a view
runs, so these forms do not check it a second time.

A page reads the query string on GET and the posted form (or a JSON object, as the idle
timer's sign-out sends) otherwise, so a view never touches ``request.form`` or
``request.args`` itself.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, StringField

from booking.people.residents import normalise_phone

F = TypeVar("F", bound="KioskForm")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class KioskForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False  # checked for every POST by kiosk.csrf before the view runs

    @classmethod
    def read(cls: type[F]) -> F:
        """The form filled from this request: its query string on GET, else its body."""
        return cls(formdata=_request_data())

    def text(self, name: str) -> str:
        """A field's text by its attribute name, "" when the request did not carry it."""
        return _text(self[name])

    def present(self) -> dict[str, str]:
        """The fields the request carried (even empty), by name: what a page shows again."""
        return {field.name: _text(field) for field in self if field.raw_data}


def _text(field: Field) -> str:
    return field.data if isinstance(field.data, str) else ""


def _request_data() -> MultiDict[str, Any]:
    if request.method in ("GET", "HEAD"):
        return MultiDict(request.args)
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return MultiDict()
        return MultiDict({k: v for k, v in body.items() if isinstance(v, str)})
    return MultiDict(request.form)


class NextForm(KioskForm):
    """Where to go afterwards: a kiosk path, checked by the view before it is followed."""

    next = StringField()


class SignInForm(NextForm):
    phone = StringField(filters=[lambda value: normalise_phone(value or "")])
    pin = StringField()


class CodeForm(NextForm):
    """A phone and the one-time code on a staff slip (kiosk.touch.code_pin)."""

    phone = StringField(filters=[lambda value: normalise_phone(value or "")])
    code = StringField()


class SendCodeForm(KioskForm):
    """The phone a sign-in code is to be sent to by SMS (the phone page, kiosk.mobile)."""

    phone = StringField(filters=[lambda value: normalise_phone(value or "")])


class PairingForm(KioskForm):
    """The code staff type to pair this screen with its reader (kiosk.touch.reader.setup)."""

    code = StringField(filters=[_strip])


class CardPinForm(KioskForm):
    """The PIN typed after a card was tapped (kiosk.touch.reader.card_sign_in)."""

    pin = StringField()


class NewPinForm(NextForm):
    pin = StringField()
    pin_again = StringField()


class LanguageForm(NextForm):
    locale = StringField()


class TextSizeForm(NextForm):
    size = StringField()


class SignOutForm(KioskForm):
    reason = StringField()


class ReturnToForm(KioskForm):
    """The page a signed-in form was sent from, to come back to after signing in again."""

    return_to = StringField()


class MessageChoiceForm(KioskForm):
    """One kind of message by SMS turned on or off (kiosk.touch.message_choices)."""

    kind = StringField()
    sms = StringField()


class ConsentForm(KioskForm):
    notice_version = StringField()


class MeasureForm(KioskForm):
    device = StringField()


class ConditionForm(KioskForm):
    condition = StringField()


class ReserveToolForm(KioskForm):
    """A day (ISO date) and a window's name, for reserving a tool ahead."""

    day = StringField()
    window = StringField()


class BookingActionForm(KioskForm):
    # "slip" when the button was on the booking's slip: an error is shown there again.
    came_from = StringField(name="from")
    # "yes" from the page that asks before a booking is cancelled.
    confirm = StringField()


class PeriodForm(KioskForm):
    """A day, a start and a length, and the study room they were chosen in."""

    day = StringField()
    start = StringField()
    minutes = StringField()
    room = StringField()


class SeatForm(PeriodForm):
    seat_id = StringField()


class RoomBookingForm(KioskForm):
    day = StringField(filters=[_strip])
    start = StringField(filters=[_strip])
    minutes = StringField(filters=[_strip])
    headcount = StringField(filters=[_strip])
    purpose = StringField(filters=[_strip])
    details = StringField(filters=[_strip])

    def values(self) -> dict[str, str]:
        """Every field, "" for one not sent: the booking reads all six."""
        return {field.name: _text(field) for field in self}
