"""Which reader this kiosk screen is paired with: a signed, long-lived cookie on the kiosk's
browser, set once by staff at the reader setup page (``setup``).

The cookie holds the reader's device id, signed with the app's secret so a browser cannot
pair itself with another screen's reader. It is checked against the registry on every use:
a reader that was removed or revoked pairs nobody any more.
"""

from __future__ import annotations

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from kiosk.tls import cookie_secure

COOKIE_NAME = "linli_reader"
# Outside /kiosk too: the poll (next_read) lives outside it so it keeps nobody signed in.
COOKIE_PATH = "/"
# A screen stays paired until staff pair it again: ten years is "for good" for a browser.
COOKIE_MAX_AGE = 10 * 365 * 24 * 3600
_SALT = "linli.kiosk-reader"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=_SALT)


def paired_device_id() -> str | None:
    """The reader id this browser was paired with, if its cookie is genuine."""
    raw = request.cookies.get(COOKIE_NAME, "")
    if not raw:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def pair(response: Response, device_id: str) -> Response:
    response.set_cookie(
        COOKIE_NAME,
        _serializer().dumps(device_id),
        max_age=COOKIE_MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=cookie_secure(),
    )
    return response


def template_context() -> dict[str, object]:
    """Whether the page polls a reader (reader.js is on every page of a paired screen)."""
    return {"reader_paired": paired_device_id() is not None}
