"""CSRF protection for every form post and fetch call of the app.

Forms carry ``csrf_token()`` in a hidden field; fetch calls send the token from the
``csrf_meta_tag()`` in the page head as the ``X-CSRFToken`` header. Areas that
authenticate without cookies (a token-only JSON API) may opt out with ``csrf.exempt``.
"""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    csrf.init_app(app)
