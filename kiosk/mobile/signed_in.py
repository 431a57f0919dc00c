"""Phone pages only a signed-in resident may use: anyone else is sent to sign in first."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Concatenate, ParamSpec

from flask import redirect, url_for
from flask.typing import ResponseReturnValue

from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident

P = ParamSpec("P")


def resident_required(
    view: Callable[Concatenate[PhoneResident, P], ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Call ``view`` with the signed-in resident, or send the browser to sign in."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        resident = phone_session.current_resident()
        if resident is None:
            return redirect(url_for("mobile.sign_in_form"))
        return view(resident, *args, **kwargs)

    return wrapper
