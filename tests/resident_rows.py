"""Residents registered straight into the database: many at the demo centre (for pages of a
list), or one at a second centre (that one centre's people stay out of sight of another's)."""

from __future__ import annotations

from flask import Flask

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.core.models.sites import Site
from booking.people import residents as resident_service
from kiosk.extensions import database


def resident_of_another_centre(app: Flask, clock: FrozenClock, name: str = "外人") -> int:
    """Register a resident (PIN 275139) at a new centre "other"; returns the resident's id."""
    with app.app_context(), database().write() as session:
        other = Site(slug="other", name_zh="别的中心", name_en="Other")
        session.add(other)
        session.flush()
        return resident_service.register_resident(
            session,
            site_id=other.id,
            name=name,
            phone="13600000000",
            pin="275139",
            now=clock.now(),
        ).id


def residents_named_test(app: Flask, clock: FrozenClock, count: int, digits: int) -> None:
    """Register ``count`` residents of the demo centre "xinhua", named 测试 and their number
    with ``digits`` digits (测试00, 测试01, …), so that they sort in order of registration."""
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        for n in range(count):
            resident_service.register_resident(
                session,
                site_id=site.id,
                name=f"测试{n:0{digits}d}",
                phone=f"1370000{n:04d}",
                pin="275139",
                now=clock.now(),
            )
