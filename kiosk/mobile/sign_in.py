"""Signing in and out on a resident's own phone: phone and PIN, or phone and a one-time code.

The same services, throttle and words as the kiosk (``booking.people.residents``,
``one_time_codes``, ``sign_in_guard``): a wrong PIN here counts as one at the kiosk, for the
same phone from the same address. Only the session differs: made on the phone channel, kept
in its own cookie for ``PHONE_IDLE_DAYS``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from booking.core.errors import DomainError, TooManySignIns
from booking.messages import sign_in_codes
from booking.people import auth_sessions, one_time_codes, residents
from booking.people.models.resident_sessions import SessionChannel
from booking.people.models.residents import Resident
from kiosk import sign_in_waits
from kiosk.extensions import clock, database
from kiosk.messaging import sms_config
from kiosk.mobile import code_by_sms
from kiosk.mobile import session as phone_session
from kiosk.touch.code_pin import CODE_HELP, EXPIRED, REPLACED, USED, WRONG
from kiosk.touch.controllers import PHONE_HELP, PIN_HELP, SIGNED_OUT
from kiosk.touch.forms import CodeForm, SendCodeForm, SignInForm
from kiosk.touch.messages import message_for


def _page(template: str, error: str | None = None, status: int = 200, phone: str = "",
          focus: str = "phone", headers: dict[str, str] | None = None) -> ResponseReturnValue:  # fmt: skip
    return render_template(
        template, error=error, phone=phone, focus=focus,
        can_send_code=sms_config.reaches_phones(),
    ), status, headers or {}  # fmt: skip


def sign_in_form() -> ResponseReturnValue:
    if phone_session.current_resident() is not None:
        return redirect(url_for("mobile.home"))
    return _page("mobile/sign_in.html")


def code_form() -> ResponseReturnValue:
    if phone_session.current_resident() is not None:
        return redirect(url_for("mobile.home"))
    # Back from "send me a code": the phone stays typed, the code is what comes next.
    phone = SendCodeForm.read().text("phone")
    if residents.PHONE_PATTERN.match(phone):
        return _page("mobile/code_sign_in.html", phone=phone, focus="secret")
    return _page("mobile/code_sign_in.html")


def code_page(
    error: str | None, status: int, phone: str = "", focus: str = "phone"
) -> ResponseReturnValue:
    return _page("mobile/code_sign_in.html", error, status, phone=phone, focus=focus)


def sign_in() -> ResponseReturnValue:
    form = SignInForm.read()
    phone, pin = form.text("phone"), form.text("pin")
    # Format mistakes are caught before the database: they count as no attempt.
    if not residents.PHONE_PATTERN.match(phone):
        return _page("mobile/sign_in.html", str(PHONE_HELP), 422, phone=phone)
    if not residents.PIN_PATTERN.match(pin):
        return _page("mobile/sign_in.html", str(PIN_HELP), 422, phone=phone, focus="secret")
    return _start(
        "mobile/sign_in.html", phone,
        lambda db, site_id, now: residents.authenticate_resident(
            db, site_id=site_id, phone=phone, pin=pin, now=now,
            client=sign_in_waits.client_address(),
        ),
    )  # fmt: skip


def sign_in_with_code() -> ResponseReturnValue:
    form = CodeForm.read()
    phone, code = form.text("phone"), one_time_codes.normalise_code(form.text("code"))
    if not residents.PHONE_PATTERN.match(phone):
        return _page("mobile/code_sign_in.html", str(PHONE_HELP), 422, phone=phone)
    if not one_time_codes.CODE_PATTERN.match(code):
        return _page("mobile/code_sign_in.html", str(CODE_HELP), 422, phone=phone, focus="secret")
    return _start(
        "mobile/code_sign_in.html", phone,
        lambda db, site_id, now: one_time_codes.sign_in_with_code(
            db, site_id=site_id, phone=phone, code=code, now=now,
            client=sign_in_waits.client_address(),
        ),
    )  # fmt: skip


def _words_for(error: DomainError, timezone: str) -> str:
    if isinstance(error, one_time_codes.CodeExpired):
        return str(EXPIRED)
    if isinstance(error, one_time_codes.CodeUsed):
        return str(REPLACED if error.details.get("replaced") else USED)
    return message_for(error, timezone=timezone)


# Checks the secret typed and returns the resident it opens (the caller's transaction commits).
Check = Callable[[Session, int, datetime], Resident]


def _start(template: str, phone: str, check: Check) -> ResponseReturnValue:
    """Check the secret with ``check`` and open a phone session; refusals in the kiosk's words."""
    site = phone_session.current_site()
    now = clock().now()
    failure: DomainError | None = None
    with database().write() as db:
        auth_sessions.end_resident_session(
            db, token=phone_session.presented_token(), now=now, reason="replaced"
        )
        try:
            resident = check(db, site.id, now)
            token = auth_sessions.start_resident_session(
                db, resident=resident, site_id=site.id, now=now, channel=SessionChannel.PHONE
            )
            # A slip's code for a new account or a forgotten PIN: the kiosk will need one.
            needs_pin = resident.pin_hash is None
        except DomainError as error:
            # Swallowed inside the transaction so that the failure count is committed.
            failure = error
    if isinstance(failure, TooManySignIns):
        phone_session.forget_token()
        return _page(template, sign_in_waits.wait_words(failure), failure.status, phone=phone,
                     focus="secret", headers=sign_in_waits.headers(failure))  # fmt: skip
    if failure is not None:
        phone_session.forget_token()
        words = (
            str(WRONG)
            if failure.code == "sign_in_failed" and template.endswith("code_sign_in.html")
            else _words_for(failure, site.timezone)
        )
        return _page(template, words, failure.status, phone=phone, focus="secret")
    phone_session.remember_token(token)
    return redirect(url_for("mobile.new_pin" if needs_pin else "mobile.home"))


def sign_out() -> ResponseReturnValue:
    with database().write() as db:
        auth_sessions.end_resident_session(
            db, token=phone_session.presented_token(), now=clock().now(), reason="signed_out"
        )
    if phone_session.current_resident() is not None:
        flash(str(SIGNED_OUT), "info")
    phone_session.forget_token()
    return redirect(url_for("mobile.sign_in_form"))


def send_code() -> ResponseReturnValue:
    """ "Send me a code by text message" (kiosk.mobile.code_by_sms says when it is offered)."""
    if not sms_config.reaches_phones():
        return code_page(None, 404)
    phone = SendCodeForm.read().text("phone")
    if not residents.PHONE_PATTERN.match(phone):
        return code_page(str(PHONE_HELP), 422, phone=phone)
    site = phone_session.current_site()
    try:
        with database().write() as db:
            sign_in_codes.send_sign_in_code(db, site_id=site.id, phone=phone, now=clock().now())
    except sign_in_codes.CodeRequestedTooSoon:
        return code_page(str(code_by_sms.TOO_SOON), 429, phone=phone, focus="secret")
    # The same words whether or not the phone is a member here.
    flash(str(code_by_sms.SENT), "info")
    return redirect(url_for("mobile.code_form", phone=phone))
