"""The console tables' once-per-table formats write what Flask-Babel and url_for would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import pytz
from flask import Flask, url_for
from flask_babel import format_datetime

from kiosk.staff.lending import words as lending_words
from kiosk.staff.table_formats import IdUrls, _fast_zone, local_minute, local_minutes, plain_words

MOMENTS = [
    datetime(2026, 11, 24, 1, 30, tzinfo=UTC),
    datetime(2026, 12, 31, 16, 0, 59, tzinfo=UTC),  # the next year, locally
    datetime(2026, 3, 8, 18, 45, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 6, 1, 23, 59),  # naive: UTC, as Flask-Babel takes it
]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_moments_are_written_as_flask_babel_writes_the_console_pattern(
    app: Flask, language: str
) -> None:
    with app.test_request_context("/staff/", headers={"Accept-Language": language}):
        minute = local_minutes()
        for moment in MOMENTS:
            expected = format_datetime(moment, "yyyy-MM-dd HH:mm")
            assert local_minute(moment) == minute(moment) == expected
        assert local_minute(None) == minute(None) == ""


@pytest.mark.parametrize(
    "name", ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe"]
)
def test_the_faster_zone_writes_every_moment_as_flask_babels_pytz_zone(name: str) -> None:
    # Every half hour of two years, both ways across each daylight-saving change.
    slow = pytz.timezone(name)
    fast = _fast_zone(slow)
    assert fast is not slow
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for step in range(2 * 366 * 48):
        moment = start + timedelta(minutes=30 * step)
        assert moment.astimezone(fast).strftime("%Y-%m-%d %H:%M") == moment.astimezone(
            slow
        ).strftime("%Y-%m-%d %H:%M"), moment


def test_row_links_are_the_urls_url_for_builds(app: Flask) -> None:
    with app.test_request_context("/staff/"):
        item_url = IdUrls("staff.lending_item", "item_id")
        renew_url = IdUrls("staff.lending_renew", "loan_id")
        for row_id in (1, 42, 2_000_000_000):
            assert item_url(row_id) == url_for("staff.lending_item", item_id=row_id)
            assert renew_url(row_id) == url_for("staff.lending_renew", loan_id=row_id)


def test_words_are_translated_once_into_plain_text(app: Flask) -> None:
    with app.test_request_context("/staff/", headers={"Accept-Language": "en"}):
        words = plain_words(lending_words.LOAN_STATUS)
        assert words == {status: str(word) for status, word in lending_words.LOAN_STATUS.items()}
        assert all(type(word) is str for word in words.values())
