"""A resync command for a device whose messages show a gap: it sends its state again."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from devices.commands import operations as commands
from devices.models.commands import CommandState, DeviceCommand

log = logging.getLogger(__name__)

RESYNC_TTL = timedelta(seconds=30)
RESYNC_REQUESTED_BY = "bridge: sequence gap"
# The only kinds a device publishes retained (§2); the broker's replay of any other is refused.


def issue_resync(session: Session, device_id: str, now: datetime) -> DeviceCommand | None:
    """A resync command for the device, unless one is still under way."""
    pending = session.scalars(
        select(DeviceCommand.id).where(
            DeviceCommand.device_id == device_id,
            DeviceCommand.name == "resync",
            DeviceCommand.state.in_(
                [CommandState.CREATED, CommandState.SENT, CommandState.ACCEPTED]
            ),
            DeviceCommand.expires_at > now,
        )
    ).first()
    if pending is not None:
        return None
    try:
        return commands.issue(
            session, device_id, "resync", {}, now, ttl=RESYNC_TTL, requested_by=RESYNC_REQUESTED_BY
        )
    except DomainError as error:
        log.info("no resync for %s: %s", device_id, error.code)
        return None
