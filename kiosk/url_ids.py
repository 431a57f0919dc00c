"""The ``<id:…>`` URL converter: a row's id, 1 to :data:`booking.core.db.MAX_ID`.

Werkzeug's ``int`` takes any number of digits; a path with an id past what a table can hold
then reached the database and failed there (500 on both databases). This one does not match
it, so such a path is simply not found (404), like any id that names nothing. flask-smorest
reads the bounds into the OpenAPI document.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from booking.core.db import MAX_ID


class IdConverter(IntegerConverter):
    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def id_from_text(text: str) -> int | None:
    """A row's id typed or posted as text, or None: ASCII digits only (``"²"`` is a digit to
    ``str.isdigit`` but not to ``int``), within what a table holds."""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def init_app(app: Flask) -> None:
    """Before any blueprint registers a route that uses it."""
    app.url_map.converters["id"] = IdConverter
