"""What the server knows about its own availability, so catch-up jobs punish no one for it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class ServicePart(enum.StrEnum):
    """A part without which residents cannot use the kiosk."""

    # ``linli worker``: its scheduler beats every minute.
    WORKER = "worker"
    # The kiosk screen reached the web and the database: its page beats every minute.
    KIOSK = "kiosk"
    # Outages only: the web saw the database fail, from its first failure to its next success.
    DATABASE = "database"


class Heartbeat(Base):
    """The last moment a part of the service was seen alive at a site (written every minute)."""

    __tablename__ = "heartbeats"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    part: Mapped[ServicePart] = mapped_column(str_enum(ServicePart), primary_key=True)
    # Before the first heartbeat nothing is known, so nothing before it counts as "up".
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
