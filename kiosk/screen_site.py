"""Which centre a kiosk screen serves: one web app serves every centre's screens.

A district runs one deployment (issue 18), so the centre cannot be the app's: staff set a
screen up for their centre once, from the console (``use_as_screen``), and the browser keeps
a signed, long-lived cookie naming it, as a paired reader's is kept (kiosk.touch.reader.
paired). A screen never set up serves the deployment's own centre, ``LINLI_SITE``. The cookie
is signed with the app's secret, so a browser cannot move itself to another centre; one
naming a centre that is gone serves the deployment's own centre again.
"""

from __future__ import annotations

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from kiosk.tls import cookie_secure

COOKIE_NAME = "linli_screen"
# The kiosk, its reader poll (outside /kiosk) and its heartbeat all ask.
COOKIE_PATH = "/"
# A screen stays at its centre until staff set it up again: ten years is "for good".
COOKIE_MAX_AGE = 10 * 365 * 24 * 3600
_SALT = "linli.kiosk-screen-site"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=_SALT)


def chosen_slug() -> str | None:
    """The centre this browser was set up for, if its cookie is genuine."""
    raw = request.cookies.get(COOKIE_NAME, "")
    if not raw:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def slug() -> str:
    """The centre this request's screen serves: the one it was set up for, else the app's."""
    if "screen_site_gone" in g:
        return str(current_app.config["SITE"])
    return chosen_slug() or str(current_app.config["SITE"])


def forget_gone_site() -> None:
    """The centre the cookie names no longer exists: serve the app's own for this request."""
    g.screen_site_gone = True


def set_up(response: Response, site_slug: str) -> Response:
    response.set_cookie(
        COOKIE_NAME,
        _serializer().dumps(site_slug),
        max_age=COOKIE_MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=cookie_secure(),
    )
    return response
