"""The kiosk's own heartbeat: every kiosk page posts to /uptime/kiosk about once a minute,
and each post that reaches the database says the screen, the web and the database worked
then (booking/core/uptime.py decides strikes from it). On PostgreSQL and SQLite."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.uptime import Heartbeat, ServicePart
from tests.demo_app import demo_app_on


@pytest.fixture
def kiosk_app(any_database: Database, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    yield from demo_app_on(any_database.url, tmp_path, clock)


def beat_url_and_token(client: FlaskClient) -> tuple[str, str]:
    page = client.get("/kiosk/").get_data(as_text=True)
    url = re.search(r'data-alive-url="([^"]+)"', page)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert url and token
    assert "touch/alive.js" in page
    return url.group(1), token.group(1)


def kiosk_beats(any_database: Database) -> list[tuple[object, object]]:
    with any_database.read() as session:
        return [
            (b.first_seen_at, b.last_seen_at)
            for b in session.query(Heartbeat).filter(Heartbeat.part == ServicePart.KIOSK)
        ]


def test_each_beat_of_the_kiosk_page_is_the_kiosks_heartbeat(
    kiosk_app: Flask, any_database: Database, clock: FrozenClock
) -> None:
    client = kiosk_app.test_client()
    url, token = beat_url_and_token(client)
    start = clock.now()

    assert client.post(url, headers={"X-CSRFToken": token}).status_code == 204
    clock.advance(timedelta(minutes=1))
    assert client.post(url, headers={"X-CSRFToken": token}).status_code == 204

    assert kiosk_beats(any_database) == [(start, start + timedelta(minutes=1))]


def test_beats_closer_together_than_twenty_seconds_write_once(
    kiosk_app: Flask, any_database: Database, clock: FrozenClock
) -> None:
    client = kiosk_app.test_client()
    url, token = beat_url_and_token(client)
    start = clock.now()
    for _ in range(3):
        assert client.post(url, headers={"X-CSRFToken": token}).status_code == 204
        clock.advance(timedelta(seconds=5))

    assert kiosk_beats(any_database) == [(start, start)]


def test_the_beat_is_outside_the_kiosk_so_it_keeps_no_resident_signed_in(
    kiosk_app: Flask,
) -> None:
    url, _ = beat_url_and_token(kiosk_app.test_client())
    # The resident's cookie has the path /kiosk: a post elsewhere does not carry it.
    assert not url.startswith("/kiosk")


def test_a_beat_without_the_pages_csrf_token_is_refused_and_records_nothing(
    kiosk_app: Flask, any_database: Database
) -> None:
    kiosk_app.config["WTF_CSRF_ENABLED"] = True
    client = kiosk_app.test_client()
    url, _ = beat_url_and_token(client)

    assert client.post(url).status_code == 400
    assert kiosk_beats(any_database) == []
