"""The web's view of the device link: is the worker there to send commands and record what
devices answer?

The web never publishes a command: it issues it in its own transaction and the worker's bridge
sends it (:mod:`devices.commands.outbox`). Before offering anything that opens a door, a page
asks here whether the link is live; if not, it says so plainly and offers the counter.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from booking.core.models.sites import Site
from devices.fleet.link_status import DevicesUnavailable, LinkStatus, link_status
from kiosk.extensions import clock, database

__all__ = ["DevicesUnavailable", "LinkStatus", "ensure_live", "status_of"]


def status_of(site_id: int, session: Session | None = None) -> LinkStatus:
    """The device link of the site, now; read in ``session`` when the caller has one open."""
    if session is not None:
        site = session.get_one(Site, site_id)
        return link_status(session, site=site.slug, now=clock().now())
    with database().read() as read:
        return status_of(site_id, read)


def ensure_live(site_id: int, session: Session | None = None) -> LinkStatus:
    """The live device link of the site, or :class:`DevicesUnavailable` saying why not."""
    status = status_of(site_id, session)
    if not status.live:
        raise DevicesUnavailable("the device link is down", reason=str(status.reason))
    return status
