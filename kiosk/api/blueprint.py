"""How every API blueprint is made, so none forgets the error envelope or the auth rule.

Two kinds of caller: staff, with the console's session cookie (and the CSRF token on unsafe
methods), and programs, with an API token in ``Authorization: Bearer …``. A request that
carries a token is judged by the token alone, whatever cookie it also has. Each operation
names the scope a token needs (:func:`api_access`); staff may do everything the API does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from types import FunctionType
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_smorest import Blueprint
from sqlalchemy.orm import Session
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from booking.core import audit
from booking.core.errors import ScopeMissing, SessionExpired, TokenRefused
from booking.people import api_tokens, staff_sites
from booking.people.models.staff import StaffAccount
from kiosk.errors import register_domain_errors
from kiosk.extensions import clock, database
from kiosk.request_reads import read_connection, read_session
from kiosk.staff.session import COOKIE_NAME, current_staff

API_PREFIX = "/api/v1"
STAFF_SESSION_SCHEME = "staffSession"
TOKEN_SCHEME = "apiToken"


@dataclass(frozen=True)
class Caller:
    """Who makes this API call, as the views and the audit log need it."""

    site_id: int
    actor: str
    staff: StaffAccount | None = None
    token_id: int | None = None

    def record(self, session: Session, *, action: str, subject: str,
               detail: dict[str, Any]) -> None:  # fmt: skip
        """An audit entry under this caller's name."""
        audit.record(
            session, action=action, actor=self.actor, now=clock().now(), site_id=self.site_id,
            staff_id=self.staff.id if self.staff is not None else None, subject=subject,
            detail=detail,
        )  # fmt: skip


def caller() -> Caller:
    """The caller :func:`api_access` let in (only within such a view)."""
    found: Caller = g.api_caller
    return found


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer …``, or None when the request has no such header."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if not header:
        return None
    return value.strip() if scheme.lower() == "bearer" else ""


def _token_caller(secret: str, scope: str) -> Caller:
    now = clock().now()
    # The check on the request's read connection (read-only views go on using it); only the
    # audit entry of the use is a write.
    token = api_tokens.live_token(read_connection(), secret=secret, now=now)
    if token is None:
        raise TokenRefused("the API token is unknown, expired or revoked")
    if scope not in token.scopes:
        raise ScopeMissing(f"this API token may not use {scope}", scope=scope)
    with database().write() as session:
        api_tokens.record_use(session, token, what=f"{request.method} {request.path}", now=now)
    return Caller(site_id=token.site_id, actor=f"api_token:{token.id}", token_id=token.id)


def api_access(blp: Blueprint, scope: str) -> Callable[[F], F]:
    """Views for signed-in staff or for a token with ``scope``; 401 or 403 otherwise.

    Goes right under ``@blp.route`` so that the check runs before arguments are parsed: an
    unknown caller learns nothing from validation errors.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            secret = bearer_token()
            if secret is not None:
                g.api_caller = _token_caller(secret, scope)
            else:
                staff = signed_in_staff()
                if staff is None:
                    raise SessionExpired("sign in to the staff console, or send an API token")
                g.api_caller = Caller(
                    site_id=staff.working_site_id, actor=audit.staff_actor(staff), staff=staff
                )
            return view(*args, **kwargs)

        documented = blp.alt_response(401, response="UNAUTHORIZED")(wrapper)
        documented = blp.alt_response(
            403, response="FORBIDDEN", description=f"the API token lacks `{scope}`"
        )(documented)
        documented = blp.doc(
            security=[{STAFF_SESSION_SCHEME: []}, {TOKEN_SCHEME: []}],
            **{"x-token-scope": scope},
        )(documented)
        return documented  # type: ignore[no-any-return]

    return decorate


F = TypeVar("F", bound=Callable[..., Any])


class GuardedParser(FlaskParser):
    """webargs' parser, reading a JSON body through the app's JSON provider.

    webargs reads bodies with the standard library's ``json.loads`` of its own, past the
    provider's guard (kiosk.input_guard): a body nested thousands deep was a RecursionError,
    a 500, and a NUL byte or a lone surrogate in a string reached the database (a 500 on
    PostgreSQL, a booking stored with a NUL on SQLite). Now such a body is a 400, as it is
    for ``request.get_json``; malformed JSON is still webargs' own 400.
    """

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return webargs_core.missing
        body = req.get_data(cache=True)
        # As webargs decodes it: bytes that are not UTF-8 are its "Invalid JSON body".
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return current_app.json.loads(text)


class DocumentingBlueprint(Blueprint):  # type: ignore[misc]
    """flask-smorest's blueprint, whose documentation-only decorators add no call.

    ``alt_response`` and ``doc`` only add to the OpenAPI document, but each also wraps the
    view in a function that looks up ``current_app`` and asks ``ensure_sync`` on every
    call; the availability read went through four of them (docs/benchmarks.md). Here each
    gives the view itself back, as a copy carrying the documentation its wrapper would have.
    Its arguments are read by :class:`GuardedParser`.
    """

    ARGUMENTS_PARSER = GuardedParser()

    def alt_response(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        return _no_call_layer(super().alt_response(*args, **kwargs))

    @staticmethod
    def doc(**kwargs: Any) -> Callable[[F], F]:
        return _no_call_layer(Blueprint.doc(**kwargs))


def _no_call_layer(document: Callable[[F], F]) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        wrapper = document(view)
        if not isinstance(view, FunctionType):
            return wrapper
        # The same code, globals, defaults and closure: calling it is calling the view.
        same = FunctionType(
            view.__code__, view.__globals__, view.__name__, view.__defaults__, view.__closure__
        )
        same.__kwdefaults__ = view.__kwdefaults__
        same.__qualname__ = view.__qualname__
        same.__doc__ = view.__doc__
        same.__module__ = view.__module__
        same.__annotations__ = view.__annotations__
        # The view's attributes, ``__wrapped__`` and the documentation, as on the wrapper.
        same.__dict__.update(wrapper.__dict__)
        return same  # type: ignore[return-value]

    return decorate


def api_blueprint(name: str, path: str, description: str) -> Blueprint:
    blp = DocumentingBlueprint(
        name, __name__, url_prefix=f"{API_PREFIX}{path}", description=description
    )
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
            if bearer_token() is not None:
                raise TokenRefused("this call is for staff signed in to the console, not tokens")
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
    # One statement: the sign-in, and the centre it works at with its role there.
    account = staff_sites.recently_seen_at_work(read_connection(), token=token, now=clock().now())
    if account is None:
        return current_staff(read_session())
    g.staff = account
    g.staff_token = token
    return account
