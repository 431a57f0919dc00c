"""Text that no reader of ours can take, refused before any view or form sees it.

A NUL byte is refused by PostgreSQL in any string, and a lone surrogate (``"\\ud800"`` in a
JSON string) cannot be encoded for any database; both used to fail the statement, a 500,
wherever they reached it: a search box, a sign-in form, a JSON body. They are never part of
anything a person types, so every request's path values, query, form and JSON strings are
looked at once here, and a request carrying one answers 400, the API's envelope on ``/api``
and a plain sentence in Chinese and English elsewhere. JSON is also limited in depth: Python's
parser recurses, and a body nested thousands deep made it fail (RecursionError, a 500).

Ranges (ids, dates, lengths) are the schemas' and forms' business (WTForms, marshmallow, and
the ``<id:…>`` URL converter); this module only keeps out what none of them can read.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

from kiosk.errors import error_response, is_api_request

MAX_JSON_DEPTH = 32

UNREADABLE = "unreadable_input"
PAGE_MESSAGE = (
    "请求里有无法读取的字符，什么也没有改变。请返回重试。\n"
    "The request contains characters that cannot be read; nothing was changed. "
    "Please go back and try again.\n"
)


def is_unreadable(text: str) -> bool:
    """A NUL, or a surrogate code point on its own (not valid Unicode text)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _depth_and_text_ok(value: Any) -> bool:
    """Walk a parsed JSON value without recursion: depth and every string, keys included."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return False
        if isinstance(item, str):
            if is_unreadable(item):
                return False
        elif isinstance(item, dict):
            for key, child in item.items():
                if is_unreadable(key):
                    return False
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True


class UnreadableInput(BadRequest):
    """A body no reader of ours can take; the API answers it with its own code."""

    api_code = UNREADABLE


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies nested too deep or carrying unreadable strings. The
    API's argument parser reads bodies through it too (kiosk.api.blueprint.GuardedParser)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise UnreadableInput(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        if not _depth_and_text_ok(value):
            raise UnreadableInput(
                f"JSON nested deeper than {MAX_JSON_DEPTH} levels, or with a NUL byte or text "
                "that is not valid Unicode"
            )
        return value


def _refusal() -> Response:
    if is_api_request():
        return error_response(
            400, UNREADABLE, "the request contains a NUL byte or text that is not valid Unicode"
        )
    return Response(PAGE_MESSAGE, 400, mimetype="text/plain")


def refuse_unreadable_text() -> Response | None:
    """A ``before_request`` hook for the whole app."""
    values = [v for v in (request.view_args or {}).values() if isinstance(v, str)]
    multidicts = [request.args]
    # Without a Content-Type there is no form (werkzeug parses none); asking for it anyway set
    # up the body's stream on every GET, two thirds of this hook (12 µs, docs/benchmarks.md).
    if request.want_form_data_parsed:
        multidicts.append(request.form)
    for multidict in multidicts:
        for key, value in multidict.items(multi=True):
            values += (key, value)
    if any(is_unreadable(value) for value in values):
        return _refusal()
    return None


def init_app(app: Flask) -> None:
    # The JSON provider, which reads through GuardedJSONProvider, is kiosk.json_provider's.
    app.before_request(refuse_unreadable_text)
