"""A resident's seat-booking suspension after too many no-shows, and its early lifting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class BookingSuspension(Base):
    """A resident may not book seats at a site from ``starts_at`` until ``ends_at``."""

    __tablename__ = "booking_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(100), default="no_show_strikes")
    # Staff may lift a suspension early; it then stops counting from ``lifted_at`` on, and
    # ``ends_at`` keeps the end it would have had.
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    lift_reason: Mapped[str] = mapped_column(String(300), default="")
