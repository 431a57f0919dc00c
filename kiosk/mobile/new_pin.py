"""Choosing a PIN on the phone after signing in with a staff slip's code: the slip was for a
new account or a forgotten PIN, so the resident has none yet, and the kiosk will ask for one.
The same policy and words as the kiosk (``booking.people.pin_policy``, ``kiosk.touch.new_pin``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.code_pin import ACCEPTED
from kiosk.touch.forms import NewPinForm
from kiosk.touch.new_pin import DONE, save_new_pin


def _page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("mobile/new_pin.html", why=str(ACCEPTED), error=error), status


def _may_choose(resident: PhoneResident) -> bool:
    """A resident with no PIN yet (signed in with a slip's code), or whose PIN the policy found
    weak. Anyone else is asked nothing here, not even the old PIN: whoever held a phone left
    signed in could otherwise set a PIN of their own and sign in as the resident anywhere.
    A forgotten PIN is replaced with a staff slip's code."""
    return not resident.has_pin or resident.must_change_pin


@resident_required
def new_pin(resident: PhoneResident) -> ResponseReturnValue:
    if not _may_choose(resident):
        return redirect(url_for("mobile.home"))
    return _page()


@resident_required
def choose_pin(resident: PhoneResident) -> ResponseReturnValue:
    if not _may_choose(resident):
        return redirect(url_for("mobile.home"))
    refusal = save_new_pin(
        NewPinForm.read(), resident_id=resident.id, site_id=phone_session.current_site().id
    )
    if refusal is not None:
        return _page(refusal, 422)
    flash(str(DONE), "success")
    return redirect(url_for("mobile.home"))
