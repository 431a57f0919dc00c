"""Scheduled sends: the row that lets a reminder (or any scheduled message) go out once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class ScheduledSend(Base):
    """One message a scheduled job sent: ``kind`` ("booking.reminder") and ``key`` (what it
    was about, "booking:17") are unique together.

    The job inserts this row in the transaction that sends; two schedulers running at once
    (a worker that lost its lease and does not know yet, and its successor) both try, and
    the unique constraint lets exactly one of them commit.
    """

    __tablename__ = "scheduled_sends"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(120))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
