"""Choosing a PIN with the one-time code on a staff slip: the first time after enrolment, or
after staff reset a forgotten PIN. The resident types their phone and the code; then the
PIN twice, judged by ``booking.people.pin_policy``; then they are signed in.

Between the two steps the browser's signed session remembers which code was accepted, for
:data:`CLAIM_LIFETIME` after the last step (a screen left half-way is soon useless to the
next person), never the code itself; the code is used up only when the PIN is saved, so a
resident who walks away half-way can start again with the same slip. A wrong code keeps
the phone typed and says what to do; a code that has run out says to ask for a new slip.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from booking.core.errors import DomainError, InvalidInput, NotFound, TooManySignIns
from booking.people import auth_sessions, one_time_codes, pin_policy, residents
from kiosk import sign_in_waits
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import PHONE_HELP, safe_next
from kiosk.touch.forms import CodeForm, NewPinForm
from kiosk.touch.messages import message_for
from kiosk.touch.new_pin import NOT_THE_SAME, WHY

CLAIM_KEY = "pin_code_claim"
CLAIM_LIFETIME = timedelta(minutes=3)

CODE_HELP = _l("The code on your slip has 8 digits. Please type all of them.")
WRONG = _l(
    "The phone number or the code is not right. Please check both against your slip and try again."
)
EXPIRED = _l(
    "This code has run out: a code works for 24 hours. Please ask the staff for a new slip."
)
USED = _l(
    "This code has already been used. Sign in with the PIN you chose. If you forgot it, "
    "please ask the staff for a new slip."
)
REPLACED = _l("A newer slip replaced this one. Please use the code on the newest slip.")
ACCEPTED = _l("The code is right. Now choose your own 6-digit PIN and type it twice.")
TOO_SLOW = _l("That took a while, so please type your phone number and code again.")
DONE = _l("Your PIN is saved and you are signed in. Use the new PIN next time.")


def _code_page(error: str | None = None, status: int = 200, phone: str = "",
               focus: str = "phone", headers: dict[str, str] | None = None) -> ResponseReturnValue:  # fmt: skip
    # The page that sent the resident to sign in, carried through so the task goes on after.
    next_page = CodeForm.read().text("next")
    return render_template(
        "touch/code_sign_in.html", error=error, phone=phone, focus=focus,
        next_page=safe_next(next_page) if next_page else None,
    ), status, headers or {}  # fmt: skip


def code_form() -> ResponseReturnValue:
    return _code_page()


def _words_for(error: DomainError) -> str:
    if isinstance(error, one_time_codes.CodeExpired):
        return str(EXPIRED)
    if isinstance(error, one_time_codes.CodeUsed):
        return str(REPLACED if error.details.get("replaced") else USED)
    if error.code == "sign_in_failed":
        return str(WRONG)
    return message_for(error, timezone=kiosk_session.current_site().timezone)


def check_code() -> ResponseReturnValue:
    form = CodeForm.read()
    phone, code = form.text("phone"), one_time_codes.normalise_code(form.text("code"))
    # Format mistakes are caught before the database: they count as no attempt.
    if not residents.PHONE_PATTERN.match(phone):
        return _code_page(str(PHONE_HELP), 422, phone=phone)
    if not one_time_codes.CODE_PATTERN.match(code):
        return _code_page(str(CODE_HELP), 422, phone=phone, focus="code")
    site = kiosk_session.current_site()
    now = clock().now()
    failure: DomainError | None = None
    with database().write() as db:
        try:
            accepted = one_time_codes.check_code(
                db, site_id=site.id, phone=phone, code=code, now=now,
                client=sign_in_waits.client_address(),
            )  # fmt: skip
            code_id = accepted.id
        except DomainError as error:
            # Swallowed inside the transaction so that the failure count is committed.
            failure = error
    if isinstance(failure, TooManySignIns):
        return _code_page(sign_in_waits.wait_words(failure), failure.status, phone=phone,
                          focus="code", headers=sign_in_waits.headers(failure))  # fmt: skip
    if failure is not None:
        return _code_page(_words_for(failure), failure.status, phone=phone, focus="code")
    _remember_claim(code_id, now, next_page=form.text("next"))
    return redirect(url_for("touch.code_pin_form"))


def _remember_claim(code_id: int, now: datetime, next_page: str | None = None) -> None:
    if next_page is None:
        kept = session.get(CLAIM_KEY)
        next_page = str(kept.get("next", "")) if isinstance(kept, dict) else ""
    session[CLAIM_KEY] = {
        "code_id": code_id, "until": (now + CLAIM_LIFETIME).isoformat(), "next": next_page,
    }  # fmt: skip


def _claimed_next() -> str:
    """The page the resident was on before signing in with the code, if any."""
    claim = session.get(CLAIM_KEY)
    target = claim.get("next") if isinstance(claim, dict) else None
    return target if isinstance(target, str) else ""


def _claimed_code(now: datetime) -> int | None:
    """The code accepted in this browser a moment ago, if the moment has not passed."""
    claim = session.get(CLAIM_KEY)
    if not isinstance(claim, dict):
        return None
    try:
        code_id, until = int(claim["code_id"]), datetime.fromisoformat(claim["until"])
    except (TypeError, KeyError, ValueError):  # a cookie from an older kiosk, or tampered
        return None
    return code_id if now < until else None


def _pin_page(error: str | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "touch/new_pin.html", error=error, why=str(ACCEPTED),
        action=url_for("touch.code_pin"), next_page=None,
    ), status  # fmt: skip


def _start_again() -> ResponseReturnValue:
    session.pop(CLAIM_KEY, None)
    flash(str(TOO_SLOW), "info")
    return redirect(url_for("touch.code_form"))


def code_pin_form() -> ResponseReturnValue:
    if _claimed_code(clock().now()) is None:
        return _start_again()
    return _pin_page()


def code_pin() -> ResponseReturnValue:
    now = clock().now()
    code_id = _claimed_code(now)
    if code_id is None:
        return _start_again()
    form = NewPinForm.read()
    pin, again = form.text("pin"), form.text("pin_again")
    # Each try keeps the claim alive: a resident still choosing is not sent back.
    _remember_claim(code_id, now)
    if pin != again:
        return _pin_page(str(NOT_THE_SAME), 422)
    site = kiosk_session.current_site()
    try:
        with database().write() as db:
            resident = one_time_codes.redeem_code(
                db, site_id=site.id, code_id=code_id, new_pin=pin, now=now
            )
            auth_sessions.end_resident_session(
                db, token=kiosk_session.presented_token(), now=now, reason="replaced"
            )
            token = auth_sessions.start_resident_session(
                db, resident=resident, site_id=site.id, now=now
            )
    except InvalidInput as error:
        return _pin_page(str(WHY.get(str(error.details.get("rule")), WHY[pin_policy.LENGTH])), 422)
    except NotFound:
        return _start_again()
    except DomainError as error:
        # Run out or replaced while the PIN was being chosen: say so on the first page.
        session.pop(CLAIM_KEY, None)
        return _code_page(_words_for(error), error.status, focus="phone")
    next_page = _claimed_next()
    session.pop(CLAIM_KEY, None)
    kiosk_session.remember_token(token)
    flash(str(DONE), "success")
    return redirect(safe_next(next_page) if next_page else url_for("touch.home"))
