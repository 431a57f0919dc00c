"""Pages only a signed-in resident may use: anyone else is sent to sign in and brought back."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import ReturnToForm
from kiosk.touch.session import KioskResident

P = ParamSpec("P")

# Forms of signed-in pages carry the page they were on, so a resident whose session ran out
# comes back to the same page (not to a bare POST target) after signing in again.
RETURN_FIELD = "return_to"


def return_path() -> str:
    """Where to bring the resident back to after signing in."""
    if request.method == "GET":
        return request.full_path if request.query_string else request.path
    posted = ReturnToForm.read().text(RETURN_FIELD)
    return posted if posted.startswith("/kiosk/") else url_for("touch.home")


def resident_required(
    view: Callable[Concatenate[KioskResident, P], ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Call ``view`` with the signed-in resident, or send the browser to sign in first."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        resident = kiosk_session.current_resident()
        if resident is None:
            return redirect(url_for("touch.sign_in_form", next=return_path()))
        return view(resident, *args, **kwargs)

    return wrapper
