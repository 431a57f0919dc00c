from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class WaitlistStatus(enum.StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # a held booking waits for the resident's answer
    ACCEPTED = "accepted"
    EXPIRED = "expired"  # offered, not taken in time
    CANCELLED = "cancelled"


class WaitlistEntry(Base):
    """A resident queueing for a taken seat or room slot; first come, first offered."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (Index("ix_waitlist_entries_queue", "space_id", "seat_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    space_id: Mapped[int] = mapped_column(ForeignKey("spaces.id"))
    seat_id: Mapped[int | None] = mapped_column(ForeignKey("seats.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    headcount: Mapped[int] = mapped_column(default=1)
    status: Mapped[WaitlistStatus] = mapped_column(str_enum(WaitlistStatus))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
