"""What every page answers while the database does not: a calm 503 that retries by itself.

Without this a database outage reaches the kiosk as Werkzeug's English "Internal Server
Error", and the screen stays on it until someone touches it. Instead the kiosk (and the
console) get one page in Chinese, then English, saying the service is coming back; it reloads
itself every :data:`RETRY_AFTER_SECONDS`, and the first reload after the database answers
again is the page the resident asked for. The API answers its usual error envelope.

The page needs nothing from the database: no site name, no resident, no session lookup.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, Response, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kiosk import kiosk_uptime
from kiosk.errors import error_response, is_api_request
from kiosk.extensions import clock

log = logging.getLogger(__name__)

# Errors that mean "the database cannot be reached or cannot answer now", not a bug: the
# server is gone or refuses us (OperationalError: refused, terminated, locked, file
# unreadable), a connection broke under the driver (InterfaceError), or every pooled
# connection is stuck waiting for it (the pool's TimeoutError).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)

# Often enough that the screen is back within seconds of the database; rarely enough that a
# long outage costs nothing.
RETRY_AFTER_SECONDS = 10

HEADING = _l("The service is taking a short break")
EXPLANATION = _l("We are reconnecting. This page will try again by itself in a moment.")
HELP = _l("If you need help now, please ask the staff at the service desk.")
NOTHING_TO_DO = _l("There is no need to touch anything.")


@dataclass(frozen=True)
class Words:
    lang: str
    heading: str
    explanation: str
    help: str
    nothing_to_do: str


def words_in(locale: str, lang: str) -> Words:
    with force_locale(locale):
        return Words(lang, str(HEADING), str(EXPLANATION), str(HELP), str(NOTHING_TO_DO))


def retry_url() -> str:
    """Where the page reloads to: the same page for a GET, else the area's start page (a form
    post is not sent twice on its own; the resident starts it again)."""
    if request.method == "GET":
        return request.full_path if request.query_string else request.path
    if request.path.startswith("/staff"):
        return url_for("staff.overview")
    return url_for("touch.home")


# SQLSTATEs of a statement the database refused for the moment, answering all the while: a
# transaction that lost a conflict (class 40: serialization, deadlock), a lock not granted
# at once, a statement cancelled for its time limit. Worth the retrying page; not an outage.
_CONFLICT_CLASSES = ("40",)
_CONFLICT_STATES = ("55P03", "57014")


def is_conflict(error: Exception) -> bool:
    """Whether the database answered but refused this statement (see above)."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    if not isinstance(sqlstate, str):
        return False
    return sqlstate.startswith(_CONFLICT_CLASSES) or sqlstate in _CONFLICT_STATES


def database_unavailable(error: Exception) -> Response:
    log.warning(
        "%s %s: the database is unavailable (%s)",
        request.method,
        request.path,
        type(getattr(error, "orig", None) or error).__name__,
    )
    if not is_conflict(error):
        # Residents could not use the kiosk from now until a beat gets through again.
        kiosk_uptime.database_failed(clock().now())
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if is_api_request():
        return error_response(
            503,
            "database_unavailable",
            "The database does not answer; try again shortly.",
            headers=headers,
        )
    languages = [words_in("zh_CN", "zh-CN"), words_in("en", "en")]
    page = render_template(
        "outage.html",
        languages=languages,
        retry_after=RETRY_AFTER_SECONDS,
        retry_url=retry_url(),
    )
    response = current_app.response_class(page, status=503, headers=headers)
    # A cached outage page would be shown again after the database is back.
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, database_unavailable)
