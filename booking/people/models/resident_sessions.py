"""A resident's sign-in at the kiosk: the token's hash, its last use and how it ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class ResidentSession(Base):
    """A resident's sign-in at a kiosk; short-lived and enforced on the server."""

    __tablename__ = "resident_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
