"""The app's JSON: read through the input guard, written by orjson.

Every API answer is written here (Flask's ``jsonify``, which flask-smorest uses too). The
standard library's encoder, with the sorted keys and ``default`` hook Flask gives it, took
50 µs of the availability answer's 600 (a room's seats, 2 KB) where orjson takes 4
(docs/benchmarks.md, eighteenth session): the API is where a kiosk and a district's
dashboards wait.

What is written stays what Flask wrote, but for the bytes: the keys sorted, compact, and
every type orjson would write its own way (dates, dataclasses) handed to Flask's own
``default``, so a ``date`` is still an HTTP date and a lazy translated string its text.
Non-ASCII is written as UTF-8 rather than ``\\uXXXX`` escapes (the same JSON to any reader).
What orjson refuses (an integer beyond 64 bits) falls back to the standard library's
encoder, so nothing that was written before fails now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from flask import Flask

from kiosk.input_guard import GuardedJSONProvider

if TYPE_CHECKING:
    from werkzeug.sansio.response import Response  # as Flask's provider declares it

_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


class AppJSONProvider(GuardedJSONProvider):
    """Flask's JSON provider with orjson writing; reading is the guard's (kiosk.input_guard)."""

    def _orjson(self, obj: Any, options: int = 0) -> bytes | None:
        try:
            return orjson.dumps(obj, default=self.default, option=_OPTIONS | options)
        except orjson.JSONEncodeError:
            return None  # the standard library's encoder decides, as before

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Options asked for by name (an indent, ensure_ascii) are the standard library's.
        written = None if kwargs else self._orjson(obj)
        return super().dumps(obj, **kwargs) if written is None else written.decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:
            return super().response(*args, **kwargs)  # indented for a person reading it
        written = self._orjson(self._prepare_response_obj(args, kwargs), orjson.OPT_APPEND_NEWLINE)
        if written is None:
            return super().response(*args, **kwargs)
        # response_class is typed as werkzeug's sansio Response, which takes no body; at run
        # time it is flask.Response, as in Flask's own provider.
        return self._app.response_class(written, mimetype=self.mimetype)  # type: ignore[arg-type]


def init_app(app: Flask) -> None:
    app.json = AppJSONProvider(app)
