"""No-show strikes, which lead to a seat-booking suspension (``suspensions``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class NoShowStrike(Base):
    """A booked seat nobody checked in to, or a reserved tool nobody collected (when the
    lending policy counts those). One per booking or reservation at most, so re-running a
    no-show job never counts the same absence twice."""

    __tablename__ = "no_show_strikes"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    tool_reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("tool_reservations.id"), unique=True
    )
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The suspension this strike helped cause; a strike counts towards one suspension only.
    suspension_id: Mapped[int | None] = mapped_column(ForeignKey("booking_suspensions.id"))
