"""What a client told to wait before signing in again is shown, at the kiosk and the console:
429, a ``Retry-After`` header, and one plain sentence in Chinese and then English, so
whoever stands at the screen reads it whatever language it was left in."""

from __future__ import annotations

from flask import request
from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l

from booking.core.errors import TooManySignIns

STATUS = 429

TOO_MANY = _l("Too many wrong tries from this screen.")


def client_address() -> str:
    """The client the throttle counts: the address the request came from (the proxy's
    forwarded one when LINLI_PROXY_HOPS says there is a proxy, kiosk/tls.py)."""
    return request.remote_addr or "unknown"


def retry_after(error: TooManySignIns) -> int:
    seconds = error.details.get("retry_after")
    return seconds if isinstance(seconds, int) and seconds > 0 else 60


def _wait_sentence(seconds: int) -> str:
    if seconds < 60:
        return str(ngettext(
            "Please try again in %(num)d second.", "Please try again in %(num)d seconds.", seconds
        ))  # fmt: skip
    minutes = -(-seconds // 60)
    return str(ngettext(
        "Please try again in %(num)d minute.", "Please try again in %(num)d minutes.", minutes
    ))  # fmt: skip


def wait_words(error: TooManySignIns) -> str:
    """The sentence in both languages, Chinese first."""
    seconds = retry_after(error)
    said = []
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            first = str(TOO_MANY)
            # Chinese sentences follow a full stop directly; English ones after a space.
            said.append(first + ("" if first.endswith("。") else " ") + _wait_sentence(seconds))
    return " / ".join(said)


def headers(error: TooManySignIns) -> dict[str, str]:
    return {"Retry-After": str(retry_after(error))}
