"""A long-lived cookie that names something a browser was given by staff, signed with the
app's secret so that the browser cannot name something else: the reader a kiosk screen is
paired with (kiosk.touch.reader.paired), the centre it serves (kiosk.screen_site)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response

from kiosk.tls import cookie_secure

# Until staff set the screen up again: ten years is "for good" for a browser.
FOR_GOOD = 10 * 365 * 24 * 3600


@dataclass(frozen=True)
class SignedCookie:
    name: str
    salt: str
    path: str = "/"

    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(current_app.secret_key or "", salt=self.salt)

    def read(self) -> str | None:
        """The text this browser was given, if its cookie is genuine."""
        raw = request.cookies.get(self.name, "")
        if not raw:
            return None
        try:
            value = self._serializer().loads(raw)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def give(self, response: Response, value: str) -> Response:
        response.set_cookie(
            self.name,
            self._serializer().dumps(value),
            max_age=FOR_GOOD,
            path=self.path,
            httponly=True,
            samesite="Lax",
            secure=cookie_secure(),
        )
        return response
