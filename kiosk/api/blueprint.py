"""How every API blueprint is made, so none forgets the error envelope or the auth rule."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from flask_smorest import Blueprint

from booking.core.errors import SessionExpired
from booking.people import auth_sessions
from booking.people.models.staff import StaffAccount
from kiosk.errors import register_domain_errors
from kiosk.extensions import clock
from kiosk.request_reads import read_connection, read_session
from kiosk.staff.session import COOKIE_NAME, current_staff

API_PREFIX = "/api/v1"
STAFF_SESSION_SCHEME = "staffSession"

F = TypeVar("F", bound=Callable[..., Any])


def api_blueprint(name: str, path: str, description: str) -> Blueprint:
    blp = Blueprint(name, __name__, url_prefix=f"{API_PREFIX}{path}", description=description)
    register_domain_errors(blp)
    return blp


def staff_required(blp: Blueprint) -> Callable[[F], F]:
    """Views for signed-in staff (the console's ``linli_staff`` cookie); 401 otherwise.

    Goes right under ``@blp.route`` so that the sign-in check runs before arguments are
    parsed: an anonymous caller learns nothing from validation errors. The check reads in
    the request's read session, which read-only views go on using.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if signed_in_staff() is None:
                raise SessionExpired("sign in to the staff console first")
            return view(*args, **kwargs)

        documented = blp.alt_response(401, response="UNAUTHORIZED")(wrapper)
        documented = blp.doc(security=[{STAFF_SESSION_SCHEME: []}])(documented)
        return documented  # type: ignore[no-any-return]

    return decorate


def signed_in_staff() -> StaffAccount | None:
    """The request's staff account (also in ``g.staff``, as ``current_staff`` leaves it), or
    None.

    The common case, a session used within the last minute, is one read on the request's
    read connection, on the driver's cursor; anything else (no cookie, a session to mark seen,
    one that has ended) goes to the console's full check, which decides and writes.
    """
    if "staff" in g:
        staff: StaffAccount | None = g.staff
        return staff
    token = request.cookies.get(COOKIE_NAME, "")
    account = auth_sessions.recently_seen_staff_detached(
        read_connection(), token=token, now=clock().now()
    )
    if account is None:
        return current_staff(read_session())
    g.staff = account
    g.staff_token = token
    return account
