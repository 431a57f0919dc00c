"""The kiosk's own heartbeat, and the database outages the web saw.

A kiosk screen's page posts to ``/uptime/kiosk`` about once a minute (``alive.js``). Each
post that reaches the database is a :attr:`~booking.core.models.uptime.ServicePart.KIOSK` heartbeat: the
screen, the web and the database all worked then. When the web or the database is down the
posts fail, the beats stop and the gap becomes an outage (see ``booking.core.uptime``), so no
resident gets a no-show strike for a time the kiosk could not be used, whatever the worker
saw. The post lies outside ``/kiosk`` so that it carries no resident's cookie and keeps no
one signed in.

The web also remembers when it first saw the database fail (``kiosk.outage``); the next
beat that gets through records that interval as a database outage, even one shorter than
the heartbeat gap would show.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from flask import Flask, Response, current_app

from booking.core import sites, uptime
from booking.core.errors import NotFound
from booking.core.models.uptime import ServicePart
from kiosk import screen_site
from kiosk.extensions import clock, database

# One write per web process and site in this time is enough: several screens, or pages
# loaded in quick succession, beat no more often than the scheduler does.
MIN_BEAT_INTERVAL = timedelta(seconds=20)

EXTENSION_KEY = "linli.kiosk_uptime"


class _Memory:
    """What this process remembers between requests (per app, so tests do not share it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.database_down_since: datetime | None = None
        self.last_beat: dict[str, datetime] = {}

    def database_failed(self, now: datetime) -> None:
        with self.lock:
            if self.database_down_since is None or now < self.database_down_since:
                self.database_down_since = now

    def take_down_since(self) -> datetime | None:
        with self.lock:
            since, self.database_down_since = self.database_down_since, None
            return since

    def beat_due(self, slug: str, now: datetime) -> bool:
        with self.lock:
            last = self.last_beat.get(slug)
            if last is not None and timedelta(0) <= now - last < MIN_BEAT_INTERVAL:
                return False
            self.last_beat[slug] = now
            return True

    def forget_beat(self, slug: str) -> None:
        with self.lock:
            self.last_beat.pop(slug, None)


def _memory() -> _Memory:
    memory: _Memory = current_app.extensions[EXTENSION_KEY]
    return memory


def database_failed(now: datetime) -> None:
    """Remember the first moment this process saw the database fail (until a beat succeeds)."""
    _memory().database_failed(now)


def beat() -> Response:
    """Record the kiosk's heartbeat (and a database outage this process saw end); 204."""
    now = clock().now()
    slug = screen_site.slug()
    memory = _memory()
    down_since = memory.take_down_since()
    if down_since is None and not memory.beat_due(slug, now):
        return Response(status=204)
    try:
        with database().write() as session:
            try:
                site = sites.get_site_by_slug(session, slug)
            except NotFound:
                return Response(status=204)  # not set up: nobody can use it, nothing to note
            if down_since is not None and down_since < now:
                uptime.record_outage(
                    session,
                    site_id=site.id,
                    part=ServicePart.DATABASE,
                    started_at=down_since,
                    ended_at=now,
                )
            uptime.record_heartbeat(session, site_id=site.id, now=now, part=ServicePart.KIOSK)
    except Exception:
        # Not recorded after all: the next beat must try again, and keep the outage's start.
        memory.forget_beat(slug)
        if down_since is not None:
            memory.database_failed(down_since)
        raise
    return Response(status=204)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = _Memory()
    app.add_url_rule("/uptime/kiosk", "kiosk_uptime", beat, methods=["POST"])
