"""CSRF protection for every form post and fetch call of the app.

Forms carry ``csrf_token()`` in a hidden field; fetch calls send the token from the
``csrf_meta_tag()`` in the page head as the ``X-CSRFToken`` header. API calls that do not
ride on the staff cookie (a program with an API token) are not checked: there is no
session for a forged request to use.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request
from flask_wtf.csrf import CSRFProtect


class SafeMethodsFirstCSRFProtect(CSRFProtect):  # type: ignore[misc]
    """Flask-WTF's protection, asking the method first: it looks up the view's exemptions
    before it sees that a GET needs no token, a few microseconds on every request of the
    API's hottest reads (docs/benchmarks.md). Unsafe methods are checked exactly as before."""

    def protect(self, *args: Any, **kwargs: Any) -> None:
        if request.method not in current_app.config["WTF_CSRF_METHODS"]:
            return
        if request.path.startswith("/api/") and not _api_call_uses_the_cookie():
            return
        super().protect(*args, **kwargs)


def _api_call_uses_the_cookie() -> bool:
    """CSRF is a forged request riding on the browser's cookie. An API call that brings a
    token (another site's page cannot set ``Authorization``) is judged by the token alone,
    and one with no staff cookie has nothing to ride on: both go on to the API's own check,
    which answers a missing or bad token with the documented 401, not ``csrf_failed``."""
    from kiosk.staff.session import COOKIE_NAME

    return "Authorization" not in request.headers and bool(request.cookies.get(COOKIE_NAME))


csrf = SafeMethodsFirstCSRFProtect()


def init_app(app: Flask) -> None:
    csrf.init_app(app)
