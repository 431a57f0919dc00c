"""The counts on the console overview are the site's own, straight from the database."""

from __future__ import annotations

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.demo import centre as demo_centre
from booking.lending.models.tools import Item, ItemStatus


def test_site_counts_count_only_that_site(any_database: Database, clock: FrozenClock) -> None:
    with any_database.write() as session:
        demo_centre.seed(session, now=clock.now())
        other = Site(slug="other", name_zh="别的中心", name_en="Other")
        session.add(other)
    with any_database.write() as session:
        demo = sites.get_site_by_slug(session, "xinhua")
        item = session.query(Item).filter_by(site_id=demo.id).first()
        assert item is not None
        item.status = ItemStatus.MAINTENANCE
    with any_database.read() as session:
        demo = sites.get_site_by_slug(session, "xinhua")
        counts = sites.count_site(session, demo.id)
        empty = sites.count_site(session, sites.get_site_by_slug(session, "other").id)
    assert (counts.residents, counts.staff, counts.spaces, counts.items) == (5, 2, 5, 19)
    assert counts.items_by_status[ItemStatus.MAINTENANCE] == 1
    assert counts.items_by_status[ItemStatus.AVAILABLE] == 18
    assert counts.items_by_status[ItemStatus.LOST] == 0
    assert (empty.residents, empty.items) == (0, 0)
