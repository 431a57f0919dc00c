"""Choosing a new PIN at the kiosk, which a resident whose PIN was set before the PIN policy
does right after signing in: until then every other kiosk page sends them here. The PIN is
typed twice, on the same number keys as the sign-in, and judged by
``booking.people.pin_policy``; the page says why a PIN cannot be used, in large words."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from booking.core.errors import InvalidInput
from booking.people import pin_policy, residents
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import safe_next
from kiosk.touch.forms import NewPinForm

# Pages a resident who must choose a PIN may still reach: this one, signing out, the
# language switch, and what the page itself calls (keep-alive).
STILL_OPEN = frozenset({
    "touch.new_pin", "touch.choose_pin", "touch.sign_out", "touch.language", "touch.keepalive",
})  # fmt: skip

WHY: dict[str, LazyString] = {
    pin_policy.LENGTH: _l("A new PIN has exactly 6 digits."),
    pin_policy.RUN: _l("Digits in a row (like 123456) are too easy to guess. Please choose another."),
    pin_policy.REPEAT: _l("Repeated digits (like 111111 or 121212) are too easy to guess. Please choose another."),
    pin_policy.COMMON: _l("Many people choose this PIN, so it is easy to guess. Please choose another."),
    pin_policy.PHONE: _l("This is the end of your phone number, which others may know. Please choose another."),
}  # fmt: skip
NOT_THE_SAME = _l("The two PINs are not the same. Please type the new PIN twice.")
WHY_NEW = _l("For your safety, please choose a new 6-digit PIN before you go on.")
DONE = _l("Your new PIN is saved. Use it next time you sign in.")


def ask_for_new_pin() -> ResponseReturnValue | None:
    """A kiosk ``before_request``: a resident who must choose a PIN does that first."""
    resident = kiosk_session.current_resident()
    if resident is None or not resident.must_change_pin or request.endpoint in STILL_OPEN:
        return None
    # Back to the page asked for afterwards; a form sent meanwhile is not sent again.
    if request.method != "GET":
        return redirect(url_for("touch.new_pin"))
    return redirect(url_for("touch.new_pin", next=request.full_path.rstrip("?")))


def _page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "touch/new_pin.html", error=error, why=str(WHY_NEW),
        next_page=NewPinForm.read().text("next"),
    ), status  # fmt: skip


def new_pin() -> ResponseReturnValue:
    resident = kiosk_session.current_resident()
    if resident is None:
        return redirect(url_for("touch.sign_in_form", next=url_for("touch.new_pin")))
    if not resident.must_change_pin:
        return redirect(url_for("touch.home"))
    return _page()


def choose_pin() -> ResponseReturnValue:
    resident = kiosk_session.current_resident()
    if resident is None:
        return redirect(url_for("touch.sign_in_form"))
    # Only a PIN the policy found weak is replaced here, without the old one: anyone else at a
    # screen left signed in could otherwise set a PIN of their own and come back as the
    # resident. A forgotten PIN is replaced with a staff slip's code (kiosk.touch.code_pin).
    if not resident.must_change_pin:
        return redirect(url_for("touch.home"))
    form = NewPinForm.read()
    refusal = save_new_pin(form, resident_id=resident.id, site_id=kiosk_session.current_site().id)
    if refusal is not None:
        return _page(refusal, 422)
    flash(str(DONE), "success")
    return redirect(safe_next(form.text("next")))


def save_new_pin(form: NewPinForm, *, resident_id: int, site_id: int) -> str | None:
    """Save the PIN typed twice on ``form`` (kiosk and phone alike); the refusal in words, if any."""
    pin, again = form.text("pin"), form.text("pin_again")
    if pin != again:
        return str(NOT_THE_SAME)
    try:
        with database().write() as session:
            residents.change_pin(
                session, resident_id=resident_id, site_id=site_id, new_pin=pin, now=clock().now()
            )
    except InvalidInput as error:
        return str(WHY.get(str(error.details.get("rule")), WHY[pin_policy.LENGTH]))
    return None
