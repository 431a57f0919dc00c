"""The staff sign-in cookie: one revocable server-side session per browser.

The cookie ``linli_staff`` holds only a random token; ``booking.people.auth_sessions`` keeps its
hash, its last use and whether it has ended. Both the console and the JSON API read it.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta

from flask import current_app, g, request
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from booking.core.errors import SessionExpired
from booking.people import auth_sessions, staff_sites
from booking.people.models.staff import StaffAccount
from kiosk.extensions import clock, database
from kiosk.tls import cookie_secure

COOKIE_NAME = "linli_staff"


def idle_limit() -> timedelta:
    return timedelta(minutes=int(current_app.config["STAFF_IDLE_MINUTES"]))


# What a page does by itself, not a person: the device board's refresh sends this header, and
# the alerts inbox's event stream reconnects every minute. Neither extends the session.
BACKGROUND_HEADER = "X-Linli-Background"
BACKGROUND_ENDPOINTS = frozenset({"staff.alerts_stream"})


def is_background_request() -> bool:
    return request.headers.get(BACKGROUND_HEADER) == "1" or (
        request.endpoint in BACKGROUND_ENDPOINTS
    )


def current_staff(reads: Session | None = None) -> StaffAccount | None:
    """The signed-in staff account of this request (also in ``g.staff``), or None.

    Looked up once per request; a token that has expired or was revoked is forgotten and
    its cookie removed when the response goes out. ``reads`` is a read session the request
    goes on using (``kiosk.request_reads``), so the check costs no transaction of its own;
    without it the check opens and closes its own (console pages, event streams).
    """
    if "staff" in g:
        staff: StaffAccount | None = g.staff
        return staff
    token = request.cookies.get(COOKIE_NAME, "")
    account: StaffAccount | None = None
    settled = False
    if token and reads is not None:
        # Most requests come within a minute of the last: a read, no write lock.
        account = auth_sessions.recently_seen_staff(reads, token=token, now=clock().now())
        if account is not None:
            # Detached: views use it in sessions of their own.
            reads.expunge(account)
    elif token:
        # A console page: one statement on a connection of its own, no transaction and no ORM
        # session (a transaction's BEGIN and ROLLBACK were two more round trips to a server,
        # and the session a fifth of the check's time; docs/benchmarks.md). The account
        # comes back detached. Still read on every request: revocation stays immediate.
        # The same statement reads the sign-in's current centre and its role there.
        with database().read_connection() as connection:
            account = staff_sites.recently_seen_at_work(connection, token=token, now=clock().now())
            settled = account is not None
    if token and account is None and is_background_request():
        # Read only: a page refreshing itself must not count as someone using the console.
        with nullcontext(reads) if reads is not None else database().read() as session:
            account = auth_sessions.live_staff(
                session, token=token, now=clock().now(), idle_limit=idle_limit()
            )
            if account is not None:
                session.expunge(account)
    if token and account is None:
        with database().write() as session:
            try:
                account = auth_sessions.resume_staff_session(
                    session, token=token, now=clock().now(), idle_limit=idle_limit()
                )
            except SessionExpired:
                # Leave the block normally so the session's end (idle, disabled) is committed.
                g.staff_cookie_stale = True
    if account is not None and not settled:
        with nullcontext(reads) if reads is not None else database().read() as session:
            settle_site(session, account, token)
    g.staff = account
    g.staff_token = token if account is not None else None
    return account


def settle_site(reads: Session | Connection, account: StaffAccount, token: str) -> None:
    """Point ``account`` at this sign-in's current centre, checked anew on every request: a
    grant revoked a moment ago sends the console back to the home centre at once."""
    site_id, as_admin = staff_sites.console_workplace(reads, staff=account, token=token)
    account.work_at(site_id, as_admin=as_admin)


def console_site_id() -> int:
    """The centre the signed-in console works at, which every console page and API route
    shows and changes (never ``g.staff.site_id``, the home centre). Only for signed-in
    requests, which every console page but sign-in is."""
    staff: StaffAccount = g.staff
    return staff.working_site_id


def start(response: Response, account: StaffAccount) -> None:
    """Open a session for ``account`` and give this browser its cookie."""
    with database().write() as session:
        token = auth_sessions.start_staff_session(session, staff=account, now=clock().now())
    # A new sign-in starts at the home centre (change_password signs in again this way).
    account.work_at(account.site_id)
    set_cookie(response, token)
    g.staff = account
    g.staff_token = token
    g.staff_cookie_stale = False


def set_cookie(response: Response, token: str) -> None:
    # No max-age: closing the browser drops it; the server ends it after inactivity anyway.
    # Path "/" because the JSON API under /api reads the same cookie.
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="Lax",
        secure=cookie_secure(),
        path="/",
    )


def end(response: Response) -> None:
    """Sign this browser out: end the session on the server and drop the cookie."""
    token = request.cookies.get(COOKIE_NAME, "")
    if token:
        with database().write() as session:
            auth_sessions.end_staff_session(session, token=token, now=clock().now())
    clear_cookie(response)
    g.staff = None
    g.staff_token = None


def clear_cookie(response: Response) -> None:
    response.delete_cookie(
        COOKIE_NAME, path="/", httponly=True, samesite="Lax", secure=cookie_secure()
    )


def forget_stale_cookie(response: Response) -> Response:
    """An ``after_request`` hook: remove a cookie whose session is over."""
    if g.get("staff_cookie_stale"):
        clear_cookie(response)
    return response
