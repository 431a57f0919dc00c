"""TLS in front of Linli: the proxy's word trusted only as far as the operator says, every
cookie ``Secure`` behind TLS, and a loud warning when a real start has none.

Linli itself speaks plain HTTP to a reverse proxy (nginx) that ends TLS. Two settings say so
(docs/operations.md, "TLS"):

- ``LINLI_PROXY_HOPS``: how many proxies stand in front, 0 to 5 (default 0). With 1 or more,
  Werkzeug's ``ProxyFix`` believes that many ``X-Forwarded-For/-Proto/-Host/-Port`` entries,
  so the client's address (which the sign-in throttle counts) and ``https`` are the real
  ones. Without a proxy, these headers are anybody's to forge and are ignored.
- ``LINLI_TLS``: ``true`` when residents and staff reach Linli only over HTTPS. Every cookie
  (the kiosk's, the console's, the form session's) is then ``Secure``, whatever one request
  looks like, so a cookie never travels in clear text.

Without ``LINLI_TLS`` a start that is not a test, a debug server or the demo logs a warning
on every worker start: phone numbers, PINs and passwords would cross the network readable.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from kiosk.config import ConfigError

log = logging.getLogger("linli.tls")

MAX_PROXY_HOPS = 5

WITHOUT_TLS_WARNING = (
    "\n" + "!" * 78 + "\n"
    "!! Linli is running WITHOUT TLS. Phone numbers, PINs, staff passwords and the sign-in\n"
    "!! cookies cross the network in clear text. Put it behind a TLS proxy and set\n"
    '!! LINLI_TLS=true (and LINLI_PROXY_HOPS=1): docs/operations.md, section "TLS".\n' + "!" * 78
)


def cookie_secure() -> bool:
    """Whether a cookie set now gets ``Secure``: always behind TLS, else when this request
    came over HTTPS (as ProxyFix reports it)."""
    return bool(current_app.config.get("TLS")) or request.is_secure


def proxy_hops(app: Flask) -> int:
    raw = app.config.get("PROXY_HOPS", 0)
    hops = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if hops is None or not 0 <= hops <= MAX_PROXY_HOPS:
        raise ConfigError(
            f"LINLI_PROXY_HOPS must be a whole number of proxies from 0 to {MAX_PROXY_HOPS}, "
            f"not {raw!r}"
        )
    return hops


def is_real_start(app: Flask) -> bool:
    return not (app.testing or app.debug or app.config.get("DEMO"))


def init_app(app: Flask) -> None:
    hops = proxy_hops(app)
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    if app.config.get("TLS"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
    elif is_real_start(app):
        log.warning(WITHOUT_TLS_WARNING)
