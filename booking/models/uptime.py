"""What the server knows about its own availability, so catch-up jobs punish no one for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from booking.db import Base, UTCDateTime


class Heartbeat(Base):
    """The last moment the service was seen alive at a site (written every minute)."""

    __tablename__ = "heartbeats"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    # Before the first heartbeat nothing is known, so nothing before it counts as "up".
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Outage(Base):
    """An interval with no heartbeat: residents could not use the kiosk then."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
