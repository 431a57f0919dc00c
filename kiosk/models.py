"""Tables the application owns that are not part of the domain: the worker's lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class WorkerLease(Base):
    """Who runs the scheduler and the MQTT bridge of this deployment, and until when.

    Two schedulers would run every job twice and two bridges with the same fixed client id
    would keep kicking each other off the broker, so exactly one worker holds the lease,
    renewing it well before it expires; a crashed worker's lease runs out on its own.
    """

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
