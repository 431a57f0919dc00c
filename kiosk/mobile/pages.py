"""The phone page's start: the resident's menu, and the answers for a stale form or a
missing page in the same words as the kiosk."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError

from kiosk import i18n
from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch.controllers import CSRF_FAILED, PAGE_NOT_FOUND
from kiosk.touch.forms import LanguageForm


@resident_required
def home(resident: PhoneResident) -> ResponseReturnValue:
    return render_template("mobile/home.html")


def language() -> ResponseReturnValue:
    form = LanguageForm.read()
    if not i18n.choose_locale(form.text("locale")):
        abort(400)
    # Back to the /m page it was switched on; anything else goes to the start.
    target = urlsplit(form.text("next"))
    if target.scheme or target.netloc or not target.path.startswith("/m/"):
        return redirect(url_for("mobile.home"))
    return redirect(target.path + (f"?{target.query}" if target.query else ""))


def csrf_failed(error: CSRFError) -> ResponseReturnValue:
    # CSRF is checked before the blueprint's own hooks run, so load the page context here.
    phone_session.load_phone_context()
    return render_template("mobile/error.html", message=str(CSRF_FAILED)), 400


def not_found(error: Exception) -> ResponseReturnValue:
    if request.path.endswith(".ics"):
        return "", 404
    return render_template("mobile/error.html", message=str(PAGE_NOT_FOUND)), 404
