"""Who is using the phone page: the centre it serves and the resident signed in, if any.

The phone page trusts only its own cookie, ``linli_phone`` (path ``/m``), holding a token
whose hash is a row in ``resident_sessions`` made on the phone channel: a kiosk's token is
not taken here, nor this one at a kiosk. A phone is one person's, so its session lasts
``PHONE_IDLE_DAYS`` since the last use instead of the kiosk's minute; signing out, a PIN reset,
or the account being deactivated ends it at once, as at the kiosk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from booking.core import sites
from booking.core.errors import NotFound, SessionExpired
from booking.people import auth_sessions
from booking.people.models.resident_sessions import SessionChannel
from kiosk.extensions import clock, database
from kiosk.tls import cookie_secure
from kiosk.touch.session import KioskSite

COOKIE_NAME = "linli_phone"
COOKIE_PATH = "/m"


@dataclass(frozen=True)
class PhoneResident:
    """Only what the phone page shows about its owner: the masked name, never the phone."""

    id: int
    masked_name: str
    has_pin: bool = True
    # Set before the PIN policy and found weak at sign-in (booking.people.pin_policy).
    must_change_pin: bool = False


def idle_limit() -> timedelta:
    return timedelta(days=int(current_app.config["PHONE_IDLE_DAYS"]))


def load_phone_context() -> ResponseReturnValue | None:
    """Before every /m request: find the centre, and resume the resident's session if live."""
    if "phone_site" in g:
        return None
    g.phone_site = None
    g.phone_resident = None
    g.phone_new_token = None
    g.phone_clear_cookie = False
    token = presented_token()
    db = database()
    now = clock().now()
    # No transaction: the two reads need not agree on one snapshot, and a signed-in request
    # so costs two statements and no write (docs/benchmarks.md).
    with db.read_statements() as session:
        try:
            site = sites.get_site_by_slug(session, current_app.config["SITE"])
        except NotFound:
            return render_template("mobile/error.html", message=None), 503
        g.phone_site = KioskSite(site.id, site.slug, site.name_zh, site.name_en, site.timezone)
        if not token:
            return None
        # A session used moments ago resumes in this one read, with no write (and no write
        # lock): most requests. Otherwise the write below decides, and marks it seen.
        found = auth_sessions.recently_seen_resident(
            session, token=token, now=now, idle_limit=idle_limit(), channel=SessionChannel.PHONE
        )
    if found is not None:
        resident, site_id = found
    else:
        with db.write() as session:
            try:
                resident, site_id = auth_sessions.resume_resident_session(
                    session, token=token, now=now, idle_limit=idle_limit(),
                    channel=SessionChannel.PHONE,
                )  # fmt: skip
            except SessionExpired:
                resident, site_id = None, None
    if resident is None or site_id != site.id:
        g.phone_clear_cookie = True
        return None
    g.phone_resident = PhoneResident(
        resident.id, resident.masked_name, resident.pin_hash is not None,
        must_change_pin=resident.pin_change_required,
    )  # fmt: skip
    return None


def current_resident() -> PhoneResident | None:
    resident: PhoneResident | None = g.get("phone_resident")
    return resident


def current_site() -> KioskSite:
    site: KioskSite = g.phone_site
    return site


def presented_token() -> str:
    return request.cookies.get(COOKIE_NAME, "")


def remember_token(token: str) -> None:
    g.phone_new_token = token
    g.phone_clear_cookie = False


def forget_token() -> None:
    g.phone_new_token = None
    g.phone_clear_cookie = True


def write_phone_cookie(response: Response) -> Response:
    if g.get("phone_new_token"):
        # Persistent (not a browser-session cookie): a phone's browser is closed all day.
        response.set_cookie(
            COOKIE_NAME, g.phone_new_token, path=COOKIE_PATH, httponly=True, samesite="Lax",
            secure=cookie_secure(), max_age=int(idle_limit().total_seconds()),
        )  # fmt: skip
    elif g.get("phone_clear_cookie"):
        response.delete_cookie(
            COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=cookie_secure()
        )
    return response


def template_context() -> dict[str, object]:
    return {"phone_site": g.get("phone_site"), "resident": current_resident()}
