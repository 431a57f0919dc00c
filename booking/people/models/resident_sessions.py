"""A resident's sign-in at the kiosk or on their own phone: the token's hash, where it was
made, its last use and how it ended."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class SessionChannel(enum.StrEnum):
    """Where a sign-in was made; each has its own cookie and its own idle limit, and a token
    is taken only where it was made (a kiosk token cannot live a phone's month)."""

    KIOSK = "kiosk"
    PHONE = "phone"


class ResidentSession(Base):
    """A resident's sign-in, enforced on the server: short-lived at a kiosk, longer on a phone."""

    __tablename__ = "resident_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    channel: Mapped[SessionChannel] = mapped_column(
        str_enum(SessionChannel), default=SessionChannel.KIOSK, server_default="kiosk"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
