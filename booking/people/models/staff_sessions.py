"""A member of staff's sign-in at the console or the API: the token's hash, its last use and
how it ended (revocable, unlike a signed cookie)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class StaffSession(Base):
    """A console sign-in the server can end at any time (a signed cookie alone could not be revoked).

    Only a SHA-256 of the cookie's token is stored, so a copy of the database opens no session.
    """

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(40))
