"""``url_for`` in templates, remembering the addresses that cannot change while the app runs.

Every kiosk, phone and console page builds the same dozen or so addresses in its base
template: the static files and the fixed pages (home, sign-out, keep-alive …). Werkzeug
builds each from the URL map every time, a tenth of the kiosk home's CPU
(docs/benchmarks.md). An address with no arguments, or a static file's, depends only on
the endpoint and the request's script root (the URL map is fixed once the app serves, and
Linli registers no ``url_defaults``), so it is built once per script root and kept on the
app. Anything else (arguments, ``_external``, a blueprint-relative ``.name``, no request)
goes to Flask's ``url_for`` as before.

A page that renders in a request gets the same function bound to that request in its
context (:func:`_request_url_for`), which templates look up before the globals: the app's
table and the script root found once a render instead of on each of its 16 addresses (two
context lookups each, a third of the call, docs/benchmarks.md). Macros imported without the
context use the global.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_request_context, request, url_for

_KEY = "linli.template_urls"
# Script roots come from the proxy (X-Forwarded-Prefix): bound what a stranger could grow.
MAX_REMEMBERED = 512

_Remembered = dict[tuple[str, str, str | None], str]


def init_app(app: Flask) -> None:
    app.extensions.setdefault(_KEY, {})
    app.jinja_env.globals["url_for"] = template_url_for
    app.context_processor(_request_url_for)


def template_url_for(endpoint: str, /, **values: Any) -> str:
    if not has_request_context():
        return url_for(endpoint, **values)
    return _url_for_in(current_app.extensions[_KEY], request.script_root, endpoint, values)


def _request_url_for() -> dict[str, Callable[..., str]]:
    """``url_for`` for one render, bound to this request's script root (a context processor)."""
    if not has_request_context():
        return {}
    remembered: _Remembered = current_app.extensions[_KEY]
    script_root = request.script_root

    def url_for_here(endpoint: str, /, **values: Any) -> str:
        return _url_for_in(remembered, script_root, endpoint, values)

    return {"url_for": url_for_here}


def _url_for_in(
    remembered: _Remembered, script_root: str, endpoint: str, values: dict[str, Any]
) -> str:
    fixed = _fixed_key(endpoint, values)
    if fixed is None:
        return url_for(endpoint, **values)
    key = (script_root, *fixed)
    found = remembered.get(key)
    if found is None:
        if len(remembered) >= MAX_REMEMBERED:
            remembered.clear()
        found = remembered[key] = url_for(endpoint, **values)
    return found


def _fixed_key(endpoint: str, values: dict[str, Any]) -> tuple[str, str | None] | None:
    """(endpoint, static filename) when the address cannot vary, else None."""
    if endpoint.startswith("."):
        return None  # relative to the request's blueprint
    if not values:
        return endpoint, None
    filename = values.get("filename")
    if endpoint == "static" and len(values) == 1 and isinstance(filename, str):
        return endpoint, filename
    return None
