"""Registered devices for tests that need one in the database, without the broker."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from booking.core.db import Database
from booking.core.models.sites import Site
from devices.models.device import Device, DeviceKind

T0 = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)


def add_device(
    database: Database,
    device_id: str = "locker-1",
    *,
    kind: DeviceKind = DeviceKind.LOCKER,
    online: bool = True,
    compartments: int | None = 8,
    site: str = "demo",
    registered_at: datetime = T0,
) -> int:
    """A device of the given site (created on first use), registered at T0 unless told; a
    locker without ``compartments`` declares no capabilities. Returns the site's id."""
    with database.write() as session:
        row = session.scalar(select(Site).where(Site.slug == site))
        if row is None:
            row = Site(slug=site, name_zh="示范站", name_en="Demo centre")
            session.add(row)
            session.flush()
        session.add(
            Device(
                site_id=row.id,
                device_id=device_id,
                kind=kind,
                name=device_id,
                mqtt_password_hash="$7$unused",
                capabilities=(
                    {"compartments": compartments}
                    if kind is DeviceKind.LOCKER and compartments is not None
                    else {}
                ),
                online=online,
                created_at=registered_at,
            )
        )
        return row.id
