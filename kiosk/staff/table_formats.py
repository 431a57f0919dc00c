"""What the console's tables write in every row, done once a page instead of once a cell.

The lending records page spent half its time in its 50-row table (pyinstrument and cProfile,
100,000 loans, docs/benchmarks.md): each of the 150 moments went through a macro and
Flask-Babel's ``format_datetime`` (the user's timezone and locale looked up, the pattern
parsed, a pytz conversion), each of the 150 status, channel and condition words was a lazy
string translated again, and each of the 100 links was a ``url_for``. These give the same
text: the moment converted once to the console's timezone and written by ``strftime`` (the
console's pattern, ``yyyy-MM-dd HH:mm``, has only digits, so the locale changes nothing),
the words translated once for the page, and the links made from one built URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, url_for
from flask_babel import get_timezone

from booking.core.db import MAX_ID

Key = TypeVar("Key")


def _minute(moment: datetime | None, zone: tzinfo) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def local_minute(moment: datetime | None) -> str:
    """A moment as the console writes it, in its timezone to the minute; "" for none. A
    naive moment is UTC, as Flask-Babel takes it."""
    return _minute(moment, get_timezone())


def local_minutes() -> Callable[[datetime | None], str]:
    """:func:`local_minute` with the timezone looked up once, for a table's many moments
    (Flask-Babel's lookup was as costly as the writing)."""
    zone = _fast_zone(get_timezone())
    return lambda moment: _minute(moment, zone)


_ZONES: dict[str, tzinfo] = {}


def _fast_zone(zone: tzinfo) -> tzinfo:
    """The standard library's zone of the same name as Flask-Babel's pytz zone: its
    conversion is written in C, half the cost of a table's 150 moments (3.9 against 1.8 µs
    each). The same rules: tests/staff/test_table_formats.py compares the two."""
    name = getattr(zone, "zone", None)
    if not isinstance(name, str):
        return zone
    found = _ZONES.get(name)
    if found is None:
        try:
            found = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            found = zone
        _ZONES[name] = found
    return found


def plain_words(words: Mapping[Key, object]) -> dict[Key, str]:
    """The words of a table translated now, once for the page (they are lazy strings)."""
    return {key: str(word) for key, word in words.items()}


class IdUrls:
    """The URLs of one endpoint for any id, from one ``url_for``: a row's link is then the
    id put between the built URL's two parts."""

    __slots__ = ("_prefix", "_suffix")

    def __init__(self, endpoint: str, name: str) -> None:
        # MAX_ID appears nowhere else in a URL of ours, so the split finds the id's place.
        values: dict[str, Any] = {name: MAX_ID}
        self._prefix, self._suffix = url_for(endpoint, **values).split(str(MAX_ID), 1)

    def __call__(self, row_id: int) -> str:
        return f"{self._prefix}{int(row_id)}{self._suffix}"


def register(bp: Blueprint) -> None:
    """The moment filter, for every template of the app (the loan table uses the rest from
    Python: kiosk/staff/lending/loan_lines.py)."""
    bp.add_app_template_filter(local_minute, "minute")
