"""The paired screen asks for its reader's next read: ``POST /reader/next``, about once a
second (reader.js), answered ``{"go": url}`` when a read was taken, else ``{}``.

It lies outside ``/kiosk`` so that it carries no resident's cookie: a screen that polls all
day must not keep the last resident signed in (as ``/uptime/kiosk``, kiosk.kiosk_uptime).
"""

from __future__ import annotations

from flask import Flask
from flask.typing import ResponseReturnValue

from booking.core import sites
from booking.core.errors import DomainError
from devices.kiosk_reader import pairing
from kiosk import screen_site
from kiosk.extensions import database
from kiosk.touch.reader import acts, paired
from kiosk.touch.session import KioskSite


def next_read() -> ResponseReturnValue:
    device_id = paired.paired_device_id()
    if device_id is None:
        return {"paired": False}, 404
    with database().read() as session:
        try:
            site = sites.get_site_by_slug(session, screen_site.slug())
            pairing.reader(session, site_id=site.id, device_id=device_id)
        except DomainError:
            # A reader removed or revoked, or another centre's: this screen pairs nothing.
            return {"paired": False}, 404
        here = KioskSite(site.id, site.slug, site.name_zh, site.name_en, site.timezone)
    go = acts.take_and_act(here, device_id)
    return {"go": go} if go else {}


def init_app(app: Flask) -> None:
    app.add_url_rule("/reader/next", "reader_next", next_read, methods=["POST"])
