"""CSRF protection for every form post and fetch call of the app.

Forms carry ``csrf_token()`` in a hidden field; fetch calls send the token from the
``csrf_meta_tag()`` in the page head as the ``X-CSRFToken`` header. API calls that do not
ride on the staff cookie (a program with an API token) are not checked: there is no
session for a forged request to use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_wtf.csrf import CSRFProtect, generate_csrf


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


def _page_csrf_token() -> dict[str, Callable[[], str]]:
    """``csrf_token()`` for one render (a context processor, after Flask-WTF's, so templates
    find it first): Flask-WTF's ``generate_csrf`` makes the request's token once and keeps it
    in ``g`` under the field name, then hands it out from there; a kiosk page asks four times
    (the meta tag and three forms), and each ask went through the config and ``g`` proxies
    again, 5 µs (docs/benchmarks.md). This one reads what ``generate_csrf`` kept, and asks
    it only while there is nothing."""
    if not has_request_context():
        return {}
    field_name = current_app.config["WTF_CSRF_FIELD_NAME"]
    app_globals = g._get_current_object()

    def csrf_token() -> str:
        token: str | None = app_globals.get(field_name)
        return token if token is not None else generate_csrf()

    return {"csrf_token": csrf_token}


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.context_processor(_page_csrf_token)
