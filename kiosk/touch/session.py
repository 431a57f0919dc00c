"""Who is at the kiosk: the site it serves and the resident signed in, if any.

The kiosk trusts only its own cookie, ``linli_kiosk``, holding a token whose hash is a
row in ``resident_sessions``. The server ends the session after ``KIOSK_IDLE_SECONDS``
without a request, whatever the page in front of the resident does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, flash, g, render_template, request
from flask import session as browser_session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.engine import Connection
from werkzeug.wrappers import Response

from booking.core import sites
from booking.core.errors import NotFound, SessionExpired
from booking.people import auth_sessions
from booking.people.models.resident_sessions import SessionChannel
from booking.people.models.residents import Resident
from kiosk import i18n, screen_site
from kiosk.extensions import clock, database
from kiosk.tls import cookie_secure

COOKIE_NAME = "linli_kiosk"
COOKIE_PATH = "/kiosk"
# What one resident chose for themselves (large text): the next person starts without it.
LARGE_TEXT = "large_text"
PERSONAL_SETTINGS = (LARGE_TEXT,)
SIGNED_OUT_MESSAGE = _l("For your privacy you have been signed out. Please sign in again.")


@dataclass(frozen=True)
class KioskSite:
    id: int
    slug: str
    name_zh: str
    name_en: str
    timezone: str

    @property
    def name(self) -> str:
        return self.name_zh if str(get_locale() or "").startswith("zh") else self.name_en


@dataclass(frozen=True)
class KioskResident:
    """Only what a kiosk screen may show: never the full name or the phone."""

    id: int
    masked_name: str
    # Set before the PIN policy and found weak at sign-in: a new PIN comes first.
    must_change_pin: bool = False


def idle_limit() -> timedelta:
    return timedelta(seconds=int(current_app.config["KIOSK_IDLE_SECONDS"]))


def load_kiosk_context() -> ResponseReturnValue | None:
    """Before every kiosk request: find the site, and resume the resident's session if live."""
    if "kiosk_site" in g:
        return None
    g.kiosk_site = None
    g.kiosk_resident = None
    g.kiosk_new_token = None
    g.kiosk_clear_cookie = False
    token = request.cookies.get(COOKIE_NAME, "")
    db = database()
    now = clock().now()
    # No transaction and no write: a request is one statement, its site with the resident of
    # a session used moments ago (docs/benchmarks.md). Otherwise the write below decides,
    # and marks the session seen.
    with db.read_connection() as connection:
        try:
            site, found = _site_and_resident(connection, screen_site.slug(), token, now)
        except NotFound:
            if screen_site.chosen_slug() is None:
                return _not_set_up()
            # The centre this screen was set up for is gone: it serves the app's own again.
            screen_site.forget_gone_site()
            try:
                site, found = _site_and_resident(connection, screen_site.slug(), token, now)
            except NotFound:
                return _not_set_up()
        g.kiosk_site = site
        if not token:
            return None
    if found is not None:
        resident, site_id = found
    else:
        with db.write() as session:
            try:
                # Resuming counts as activity; an idle session is ended (and committed) here.
                resident, site_id = auth_sessions.resume_resident_session(
                    session, token=token, now=now, idle_limit=idle_limit()
                )
            except SessionExpired:
                resident, site_id = None, None
    if resident is None or site_id != site.id:
        g.kiosk_clear_cookie = True
        forget_personal_settings()
        # Whoever comes to the screen next starts in Chinese, as the message is said.
        i18n.forget_locale()
        flash(str(SIGNED_OUT_MESSAGE), "info")
        return None
    g.kiosk_resident = KioskResident(
        resident.id, resident.masked_name, must_change_pin=resident.pin_change_required
    )
    return None


def _site_and_resident(
    connection: Connection, slug: str, token: str, now: datetime
) -> tuple[KioskSite, tuple[Resident, int] | None]:
    """The screen's site, and the resident of ``token`` if used moments ago; NotFound when
    there is no site ``slug``."""
    if not token:
        return KioskSite(*sites.site_names_by_slug(connection, slug)), None
    site, found = auth_sessions.site_and_recently_seen_resident(
        connection, slug=slug, token=token, now=now, idle_limit=idle_limit(),
        channel=SessionChannel.KIOSK,
    )  # fmt: skip
    return KioskSite(*site), found


def _not_set_up() -> ResponseReturnValue:
    return render_template("touch/not_set_up.html", site_slug=screen_site.slug()), 503


def current_resident() -> KioskResident | None:
    resident: KioskResident | None = g.get("kiosk_resident")
    return resident


def current_site() -> KioskSite:
    site: KioskSite = g.kiosk_site
    return site


def remember_token(token: str) -> None:
    """Give this browser the new session's token when the response goes out."""
    g.kiosk_new_token = token
    g.kiosk_clear_cookie = False


def forget_token() -> None:
    g.kiosk_new_token = None
    g.kiosk_clear_cookie = True


def forget_personal_settings() -> None:
    """At sign-out or the idle timeout: the kiosk is the next person's, at its defaults."""
    for key in PERSONAL_SETTINGS:
        browser_session.pop(key, None)


def presented_token() -> str:
    return request.cookies.get(COOKIE_NAME, "")


def write_kiosk_cookie(response: Response) -> Response:
    if g.get("kiosk_new_token"):
        response.set_cookie(
            COOKIE_NAME,
            g.kiosk_new_token,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=cookie_secure(),
        )
    elif g.get("kiosk_clear_cookie"):
        response.delete_cookie(
            COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=cookie_secure()
        )
    return response


# The countdown before an idle sign-out: WCAG 2.2.1 asks for at least 20 seconds.
IDLE_WARNING_SECONDS = 20


def template_context() -> dict[str, object]:
    return {
        "kiosk_site": g.get("kiosk_site"),
        "resident": current_resident(),
        "idle_seconds": int(idle_limit().total_seconds()),
        "idle_warning_seconds": IDLE_WARNING_SECONDS,
        "language_chosen": i18n.language_chosen(),
    }
