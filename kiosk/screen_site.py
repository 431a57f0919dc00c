"""Which centre a kiosk screen serves: one web app serves every centre's screens.

A district runs one deployment (issue 18), so the centre cannot be the app's: staff set a
screen up for their centre once, from the console (kiosk.staff.admin.devices.
use_as_kiosk_screen), and the browser keeps a signed, long-lived cookie naming it, as a
paired reader's is kept (kiosk.signed_cookie). A screen never set up serves the deployment's
own centre, ``LINLI_SITE``. A browser cannot move itself to another centre; a cookie naming
a centre that is gone serves the deployment's own centre again.
"""

from __future__ import annotations

from flask import current_app, g
from werkzeug.wrappers import Response

from kiosk.signed_cookie import SignedCookie

# The kiosk, its reader poll (outside /kiosk) and its heartbeat all ask.
COOKIE = SignedCookie("linli_screen", "linli.kiosk-screen-site", path="/")
COOKIE_NAME = COOKIE.name


def chosen_slug() -> str | None:
    """The centre this browser was set up for, if its cookie is genuine."""
    return COOKIE.read()


def slug() -> str:
    """The centre this request's screen serves: the one it was set up for, else the app's."""
    if "screen_site_gone" in g:
        return str(current_app.config["SITE"])
    return chosen_slug() or str(current_app.config["SITE"])


def forget_gone_site() -> None:
    """The centre the cookie names no longer exists: serve the app's own for this request."""
    g.screen_site_gone = True


def set_up(response: Response, site_slug: str) -> Response:
    return COOKIE.give(response, site_slug)
