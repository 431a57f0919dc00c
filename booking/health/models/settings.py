"""A site's health settings: the guideline its readings are classified by, and how long they
are kept."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class HealthSettings(Base):
    """A site's choice of guideline and how long readings are kept (defaults without a row)."""

    __tablename__ = "health_settings"
    __table_args__ = (UniqueConstraint("site_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    ruleset: Mapped[str] = mapped_column(String(20))
    retention_days: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
