"""The district overview's device figure: how many of each centre's devices are offline.

One statement grouped by site, however many centres the deployment has. A device whose
broker credentials were revoked is taken out of service on purpose: it is neither counted
nor offline.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from devices.models.device import Device


@dataclass(frozen=True)
class DeviceCount:
    devices: int  # in service
    offline: int  # of those, how many the broker last saw disconnect (or never saw)


def offline_by_site(session: Session) -> dict[int, DeviceCount]:
    """Each site's devices in service and how many are offline; sites without any are absent."""
    rows = session.execute(
        select(Device.site_id, func.count(), func.sum(case((Device.online, 0), else_=1)))
        .where(Device.credentials_revoked_at.is_(None))
        .group_by(Device.site_id)
    )
    return {int(site_id): DeviceCount(int(n), int(offline or 0)) for site_id, n, offline in rows}
