"""CSRF protection for every form post and fetch call of the app.

Forms carry ``csrf_token()`` in a hidden field; fetch calls send the token from the
``csrf_meta_tag()`` in the page head as the ``X-CSRFToken`` header. Areas that
authenticate without cookies (a token-only JSON API) may opt out with ``csrf.exempt``.
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
        super().protect(*args, **kwargs)


csrf = SafeMethodsFirstCSRFProtect()


def init_app(app: Flask) -> None:
    csrf.init_app(app)
