"""Kiosk pages: parse the request, call one service, show the answer. Nothing more."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf.csrf import CSRFError

from booking.core.errors import DomainError, TooManySignIns
from booking.people import auth_sessions, residents
from kiosk import i18n, sign_in_waits
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import LanguageForm, NextForm, SignInForm, SignOutForm
from kiosk.touch.lending import reminders as lending_reminders
from kiosk.touch.messages import message_for
from kiosk.touch.spaces import my_bookings


@dataclass(frozen=True)
class Service:
    slug: str
    icon: str
    title: LazyString
    blurb: LazyString


# The four services of the centre; each page says "coming soon" until its module lands.
SERVICES = (
    Service("tools", "tools", _l("Borrow tools"), _l("Ladders, drills and more from the lockers")),
    Service("study", "study", _l("Study seats"), _l("Book a quiet seat in the study room")),
    Service(
        "rooms", "rooms", _l("Activity rooms"), _l("Dance, table tennis, calligraphy and more")
    ),
    Service("blood-pressure", "heart", _l("Blood pressure"), _l("Measure and keep your readings")),
)
SERVICES_BY_SLUG = {s.slug: s for s in SERVICES}
# Services whose screens have landed: the tile leads to them instead of "coming soon".
SERVICE_PAGES = {
    "tools": "touch.tools",
    "study": "touch.seats",
    "rooms": "touch.rooms",
}

PHONE_HELP = _l("Please enter your 11-digit mobile phone number.")
PIN_HELP = _l("Your PIN is 4 to 6 digits. Please enter it again.")
SIGNED_OUT = _l("You have signed out. Goodbye!")
SIGNED_OUT_IDLE = _l(
    "Nobody used the screen for a while, so we signed you out to keep your information safe."
)
CSRF_FAILED = _l("This page was open for too long. Please try again.")
PAGE_NOT_FOUND = _l("We could not find that page.")


def home() -> ResponseReturnValue:
    return render_template("touch/home.html", services=SERVICES, is_home=True)


def service(service: str) -> ResponseReturnValue:
    found = SERVICES_BY_SLUG.get(service)
    if found is None:
        abort(404)
    if service in SERVICE_PAGES:
        return redirect(url_for(SERVICE_PAGES[service]))
    return render_template("touch/coming_soon.html", service=found)


def sign_in_form() -> ResponseReturnValue:
    asked = NextForm.read().text("next")
    if kiosk_session.current_resident() is not None:
        return redirect(safe_next(asked))
    # No task to carry on with: leave "next" out, so news about bookings can come first.
    return render_template("touch/sign_in.html", next_page=safe_next(asked) if asked else None)


def sign_in() -> ResponseReturnValue:
    form = SignInForm.read()
    phone, pin = form.text("phone"), form.text("pin")
    # Format mistakes are caught here, before the database: they count as no attempt.
    if not residents.PHONE_PATTERN.match(phone):
        return _sign_in_error(form, str(PHONE_HELP), 422, field="phone")
    if not residents.PIN_PATTERN.match(pin):
        return _sign_in_error(form, str(PIN_HELP), 422, field="pin")

    site = kiosk_session.current_site()
    outcome = sign_in_resident(phone, pin)
    if isinstance(outcome, TooManySignIns):
        return _sign_in_error(form, sign_in_waits.wait_words(outcome), outcome.status,
                              field="pin", headers=sign_in_waits.headers(outcome))  # fmt: skip
    if isinstance(outcome, DomainError):
        return _sign_in_error(
            form, message_for(outcome, timezone=site.timezone), outcome.status, field="pin"
        )
    # Sent here from a page that needs a resident: back to it, signed in. Otherwise news
    # about their bookings (approved, rejected, an offer) is the first thing they see.
    next_page = form.text("next") or my_bookings.landing_after_sign_in(outcome, site.id)
    return redirect(safe_next(next_page or ""))


def sign_in_resident(phone: str, pin: str) -> int | DomainError:
    """Check a phone and PIN and start the resident's kiosk session: their id, or the
    refusal (counted by the sign-in guard either way). Typed at the sign-in page, or the PIN
    after a card was tapped on the screen's reader (kiosk.touch.reader.card_sign_in)."""
    site = kiosk_session.current_site()
    now = clock().now()
    failure: DomainError | None = None
    with database().write() as session:
        # A resident who walked away is replaced by whoever signs in next at this screen.
        auth_sessions.end_resident_session(
            session, token=kiosk_session.presented_token(), now=now, reason="replaced"
        )
        try:
            resident = residents.authenticate_resident(
                session, site_id=site.id, phone=phone, pin=pin, now=now,
                client=sign_in_waits.client_address(),
            )  # fmt: skip
            resident_id = resident.id
            token = auth_sessions.start_resident_session(
                session, resident=resident, site_id=site.id, now=now
            )
        except DomainError as error:
            # Swallowed inside the transaction so that the failure count is committed.
            failure = error
    if failure is not None:
        kiosk_session.forget_token()
        return failure
    kiosk_session.remember_token(token)
    lending_reminders.remind_overdue(resident_id, site.id, site.timezone)
    return resident_id


def _sign_in_error(
    form: SignInForm, message: str, status: int, field: str = "phone",
    headers: dict[str, str] | None = None,
) -> ResponseReturnValue:  # fmt: skip
    # The phone typed stays in its box and only the PIN is cleared: typing eleven digits
    # again on a touchscreen is what makes an older resident give up. It is what they typed
    # themselves, echoed alike for an unknown phone and a wrong PIN, and the idle timer takes
    # the page away if they walk off.
    asked = form.text("next")
    next_page = safe_next(asked) if asked else None
    return render_template(
        "touch/sign_in.html", error=message, focus=field, next_page=next_page,
        phone=form.text("phone"),
    ), status, headers or {}  # fmt: skip


def sign_out() -> ResponseReturnValue:
    reason = "idle" if SignOutForm.read().text("reason") == "idle" else "signed_out"
    was_signed_in = kiosk_session.current_resident() is not None
    with database().write() as session:
        auth_sessions.end_resident_session(
            session, token=kiosk_session.presented_token(), now=clock().now(), reason=reason
        )
    kiosk_session.forget_token()
    kiosk_session.forget_personal_settings()
    if was_signed_in:
        # Said in the language of the one leaving; everything after is for the next person.
        flash(str(SIGNED_OUT_IDLE if reason == "idle" else SIGNED_OUT), "info")
    i18n.forget_locale()
    if request.is_json:
        return {"signed_in": False, "home": url_for("touch.home")}
    return redirect(url_for("touch.home"))


def keepalive() -> ResponseReturnValue:
    """Called by the page when the resident is still there; resuming already marked them seen."""
    if kiosk_session.current_resident() is None:
        return {"signed_in": False, "home": url_for("touch.home")}, 401
    return {"signed_in": True, "idle_seconds": int(kiosk_session.idle_limit().total_seconds())}


def language() -> ResponseReturnValue:
    form = LanguageForm.read()
    if not i18n.choose_locale(form.text("locale")):
        abort(400)
    return redirect(safe_next(form.text("next")))


# A page's own anchor (``#tool-3``): brings the card the resident tapped back into view.
_FRAGMENT = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


def safe_next(target: str) -> str:
    """Only a kiosk path on this host, so the switch cannot send anyone elsewhere."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/kiosk/"):
        return url_for("touch.home")
    fragment = f"#{parts.fragment}" if _FRAGMENT.fullmatch(parts.fragment) else ""
    return parts.path + (f"?{parts.query}" if parts.query else "") + fragment


def csrf_failed(error: CSRFError) -> ResponseReturnValue:
    # CSRF is checked before the kiosk's own hooks run, so load the page context here.
    kiosk_session.load_kiosk_context()
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return {"error": {"code": "csrf_failed", "message": str(CSRF_FAILED)}}, 400
    return render_template("touch/error.html", message=str(CSRF_FAILED)), 400


def not_found(error: Exception) -> ResponseReturnValue:
    return render_template("touch/error.html", message=str(PAGE_NOT_FOUND)), 404
