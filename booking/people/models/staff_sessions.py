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
    # The centre this console works at, when not the account's home centre (None): a worker
    # of two centres switches in the header, and each browser keeps its own choice.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))

    def work_at(self, site_id: int | None) -> None:
        """Make ``site_id`` this console's current centre (None: back to the home centre).
        Whether the account may work there is the caller's to check (booking.people.staff_sites)."""
        self.site_id = site_id
