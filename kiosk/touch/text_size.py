"""大字 (large text): one switch on every kiosk screen makes every word half as large again,
as the 2021 age-friendly rules for sites ask. The choice is the resident's, so it lives in
their browser session and ends with them: ``kiosk_session.forget_personal_settings`` drops it
at sign-out and at the idle timeout, and the next person starts at the normal size.
"""

from __future__ import annotations

from flask import redirect, render_template, session
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import safe_next
from kiosk.touch.forms import TextSizeForm

SESSION_KEY = kiosk_session.LARGE_TEXT
SIZES = ("large", "normal")
UNKNOWN_SIZE = _l("That text size is not offered. Please use the Large text button.")


def is_large() -> bool:
    return session.get(SESSION_KEY) is True


def switch() -> ResponseReturnValue:
    """Turn large text on or off, then show the same screen again."""
    form = TextSizeForm.read()
    size = form.text("size")
    if size not in SIZES:
        return render_template("touch/error.html", message=str(UNKNOWN_SIZE)), 400
    if size == "large":
        session[SESSION_KEY] = True
    else:
        session.pop(SESSION_KEY, None)
    return redirect(safe_next(form.text("next")))


def template_context() -> dict[str, object]:
    return {"large_text": is_large()}
