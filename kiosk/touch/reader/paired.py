"""Which reader this kiosk screen is paired with: a signed, long-lived cookie on the kiosk's
browser, set once by staff at the reader setup page (``setup``).

The cookie holds the reader's device id, signed with the app's secret so a browser cannot
pair itself with another screen's reader. It is checked against the registry on every use:
a reader that was removed or revoked pairs nobody any more.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from kiosk.signed_cookie import SignedCookie

# Outside /kiosk too: the poll (next_read) lives outside it so it keeps nobody signed in.
COOKIE = SignedCookie("linli_reader", "linli.kiosk-reader", path="/")
COOKIE_NAME = COOKIE.name


def paired_device_id() -> str | None:
    """The reader id this browser was paired with, if its cookie is genuine."""
    return COOKIE.read()


def pair(response: Response, device_id: str) -> Response:
    return COOKIE.give(response, device_id)


def template_context() -> dict[str, object]:
    """Whether the page polls a reader (reader.js is on every page of a paired screen)."""
    return {"reader_paired": paired_device_id() is not None}
