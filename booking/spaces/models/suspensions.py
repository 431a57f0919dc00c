"""A resident's seat-booking suspension after too many no-shows, and its early lifting."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base
from booking.core.models.suspensions import SuspensionPeriod


class BookingSuspension(SuspensionPeriod, Base):
    """A resident may not book seats at a site from ``starts_at`` until ``ends_at``."""

    __tablename__ = "booking_suspensions"

    reason: Mapped[str] = mapped_column(String(100), default="no_show_strikes")
