"""Flask's signed-cookie session, with its signing serializer built once per key, and
``Secure`` by the same rule as Linli's other cookies (:func:`kiosk.tls.cookie_secure`).

Flask builds a new ``URLSafeTimedSerializer`` on every request to open the session (a
tenth of a short API request's own work, docs/benchmarks.md). The serializer keeps no
per-request state, so one per secret key (and its fallbacks) serves every request; a
changed key makes a new one.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from kiosk.tls import cookie_secure


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    """The same cookies as Flask's default interface, signed and read the same way."""

    def __init__(self) -> None:
        self._serializer: tuple[Any, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = self._serializer
        if cached is None or cached[0] != key:
            cached = self._serializer = (key, super().get_signing_serializer(app))
        return cached[1]

    def get_cookie_secure(self, app: Flask) -> bool:
        # Flask's own setting is fixed at start; behind a proxy, HTTPS is known per request.
        return cookie_secure()


def init_app(app: Flask) -> None:
    app.session_interface = CachedSerializerSessionInterface()
