"""Signing in and out of the console, and the rule that every page needs a signed-in account."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from booking.core import sites
from booking.core.errors import (
    DomainError,
    InvalidInput,
    NotFound,
    StaffSignInFailed,
    TooManySignIns,
)
from booking.people import staff as staff_service
from kiosk import i18n, sign_in_waits
from kiosk.extensions import clock, database
from kiosk.staff import session as staff_session
from kiosk.staff.forms import (
    ChangePasswordForm,
    LanguageForm,
    NextQueryForm,
    SignInForm,
    SignOutForm,
)

# The only console endpoints an anonymous browser may reach; everything else redirects.
PUBLIC_ENDPOINTS = frozenset({"staff.sign_in", "staff.static"})

F = TypeVar("F", bound=Callable[..., Any])


def require_sign_in() -> ResponseReturnValue | None:
    """The console blueprint's ``before_request``: sign-in by default, for every route."""
    account = staff_session.current_staff()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if account is None:
        return redirect(url_for("staff.sign_in", next=_asked_for()))
    return None


def admin_required(view: F) -> F:
    """Let only admins through; others get 403 (they are signed in, just not allowed)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("staff") is None or not g.staff.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _asked_for() -> str:
    # Only GET pages are worth coming back to; a refused POST goes back to the overview.
    if request.method != "GET":
        return url_for("staff.overview")
    return request.full_path.rstrip("?")


def safe_next(target: str | None) -> str:
    """``target`` if it is a page of the console on this host, else the overview.

    Anything with a scheme or host, ``//evil``, backslashes (browsers read ``/\\evil`` as
    ``//evil``) or a path outside ``/staff`` would turn sign-in into an open redirect.
    """
    default = url_for("staff.overview")
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return default
    if parts.path != "/staff" and not parts.path.startswith("/staff/"):
        return default
    if parts.path == url_for("staff.sign_in"):
        return default
    return target


def sign_in() -> ResponseReturnValue:
    if g.get("staff") is not None:
        return redirect(safe_next(NextQueryForm(request.args).next.data))
    form = SignInForm()
    if request.method == "GET":
        form.next.data = NextQueryForm(request.args).next.data or ""
    status = 200
    if form.validate_on_submit():
        failure: DomainError | None = None
        with database().write() as session:
            try:
                account = staff_service.authenticate_staff(
                    session, username=form.username.data or "",
                    password=form.password.data or "", now=clock().now(),
                    client=sign_in_waits.client_address(), site_id=_deployment_site(session),
                )  # fmt: skip
            except (StaffSignInFailed, TooManySignIns) as error:
                # Inside the transaction, so that the failure and its audit entry are kept.
                failure = error
        if isinstance(failure, TooManySignIns):
            form.form_errors.append(sign_in_waits.wait_words(failure))
            page = render_template("staff/sign_in.html", form=form)
            return page, sign_in_waits.STATUS, sign_in_waits.headers(failure)
        if failure is not None:
            form.form_errors.append(_("Username or password is wrong."))
            status = 401
        else:
            response = redirect(safe_next(form.next.data))
            staff_session.start(response, account)
            return response
    elif request.method == "POST":
        status = 400
    return render_template("staff/sign_in.html", form=form), status


def _deployment_site(session: Session) -> int | None:
    """This deployment's own site, where a failed sign-in with an unknown name is audited."""
    try:
        return sites.get_site_by_slug(session, current_app.config["SITE"]).id
    except NotFound:
        return None


def sign_out() -> ResponseReturnValue:
    form = SignOutForm()
    if not form.validate_on_submit():
        abort(400)
    response = redirect(url_for("staff.sign_in"))
    staff_session.end(response)
    flash(_("You are signed out."), "info")
    return response


def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            with database().write() as session:
                staff_service.change_password(
                    session,
                    staff_id=g.staff.id,
                    current=form.current.data or "",
                    new=form.new.data or "",
                    now=clock().now(),
                )
        except StaffSignInFailed:
            form.current.errors = [_("Current password is wrong.")]
            status = 400
        except InvalidInput:
            form.new.errors = [
                _(
                    "The new password must be %(min)d to 200 characters.",
                    min=staff_service.MIN_PASSWORD_LENGTH,
                )
            ]
            status = 400
        else:
            # Every session of the account has ended, this one too; this browser gets a new one.
            response = redirect(url_for("staff.overview"))
            staff_session.start(response, g.staff)
            flash(_("Password changed. Every other browser is signed out."), "info")
            return response
    elif request.method == "POST":
        status = 400
    return render_template("staff/change_password.html", form=form), status


def choose_language() -> ResponseReturnValue:
    form = LanguageForm()
    if not form.validate_on_submit() or not i18n.choose_locale(form.locale.data or ""):
        abort(400)
    return redirect(safe_next(form.next.data))
