"""The headers every response carries, kiosk, console, API and errors alike.

Only our own files run or style a page: no inline script anywhere, so a script that got into
a page through some text could not run; no plugin, no ``<base>``, and no framing by another
site (clickjacking the console). Everything but the static files is ``no-store``: kiosk
pages, console pages and API answers all carry residents' names, phones, loans or readings,
and neither a browser's back button on a shared screen nor a proxy may keep a copy.
"""

from __future__ import annotations

from flask import Flask, Response, request


def _policy(*extra: str) -> str:
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        *extra,
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))  # fmt: skip


CONTENT_SECURITY_POLICY = _policy()
# The console's bookings calendar places each booking on the day's line with a computed
# ``style="left: …%; width: …%"``: style attributes only, never a <style> or a script, so the
# console allows those and nothing more (CSS cannot run code in the browsers we support).
CONSOLE_CONTENT_SECURITY_POLICY = _policy("style-src-attr 'unsafe-inline'")

# Where the browser sends the Referer: within Linli only, never to another site. Not
# "no-referrer": behind TLS, Flask-WTF's CSRF check requires a same-origin Referer on posts.
REFERRER_POLICY = "same-origin"


# Every header as (lower-case name, name, value), in the order they are added: built once,
# not per response (setdefault on werkzeug's Headers scans the list three times and raises and
# catches an exception for each missing header: 20 µs of the 0.64 ms availability read in one
# process, docs/benchmarks.md).
_EVERY_RESPONSE = {
    console: tuple(
        (name.lower(), name, value)
        for name, value in (
            ("Content-Security-Policy", policy),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", REFERRER_POLICY),
        )
    )
    for console, policy in (
        (False, CONTENT_SECURITY_POLICY),
        (True, CONSOLE_CONTENT_SECURITY_POLICY),
    )
}
_NOT_STORED = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def add_security_headers(response: Response) -> Response:
    """An app-wide ``after_request`` hook; a header a view set on purpose is kept."""
    headers = response.headers
    present = {name.lower() for name, _value in headers}
    for lower, name, value in _EVERY_RESPONSE[request.path.startswith("/staff")]:
        if lower not in present:
            headers.add(name, value)
    if not _is_static():
        if "cache-control" in present or "pragma" in present:
            # Replaced where the view put them, as assigning does.
            for name, value in _NOT_STORED:
                headers[name] = value
        else:
            for name, value in _NOT_STORED:
                headers.add(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
