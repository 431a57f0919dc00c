"""The JSON API at ``/api/v1`` (flask-smorest); its OpenAPI document at ``/api/openapi.json``.

Staff call it with the console's session cookie, so their unsafe methods need the CSRF
token in ``X-CSRFToken`` like any form of the console; programs call it with an API token
(``Authorization: Bearer linli_…``, made by an admin in the console), each operation naming
the scope it needs (``x-token-scope``). Errors all answer the envelope of ``kiosk.errors``.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from kiosk.api import bookings, lending, meta, residents, staff
from kiosk.api.blueprint import STAFF_SESSION_SCHEME, TOKEN_SCHEME
from kiosk.api.schemas import ErrorSchema
from kiosk.staff.session import COOKIE_NAME

BLUEPRINTS = (
    meta.blp, staff.blp, residents.blp, bookings.spaces_blp, bookings.blp, lending.blp,
)  # fmt: skip


class LinliApi(Api):  # type: ignore[misc]
    # Documented error responses use our envelope, not flask-smorest's own payload.
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # flask-smorest would answer every HTTP error of the app in JSON, kiosk pages too;
        # kiosk.errors answers only /api paths with the envelope.
        pass


def init_app(app: Flask) -> LinliApi:
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = LinliApi(
        app,
        spec_kwargs={
            "info": {
                "description": "The Linli (邻里) neighbourhood centre API. Errors answer "
                '`{"error": {"code", "message", "details"}}`. While the database does not '
                "answer, every call answers 503 `database_unavailable` with `Retry-After`."
            }
        },
    )
    api.spec.components.security_scheme(
        STAFF_SESSION_SCHEME,
        {
            "type": "apiKey",
            "in": "cookie",
            "name": COOKIE_NAME,
            "description": "The staff console's session (sign in at /staff/sign-in). "
            "Unsafe methods also need the X-CSRFToken header.",
        },
    )
    api.spec.components.security_scheme(
        TOKEN_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token an admin made in the console (Administration → API "
            "tokens), shown once. Each operation's `x-token-scope` names the scope it needs; "
            "a token without it gets 403 `insufficient_scope`, an unknown, expired or revoked "
            "one 401 `invalid_token`. Every use is audited.",
        },
    )
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    return api
