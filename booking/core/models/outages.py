"""A part of the centre that was down, from when to when: what a no-show strike is weighed
against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.models.uptime import ServicePart


class Outage(Base):
    """An interval in which ``part`` was missing: residents could not use the kiosk then."""

    __tablename__ = "outages"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    part: Mapped[ServicePart] = mapped_column(str_enum(ServicePart))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
