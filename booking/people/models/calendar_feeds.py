"""A resident's private calendar feed: the secret in its address, when it was made and revoked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class CalendarFeed(Base):
    """The address a resident's calendar app polls for their bookings and loan due dates.

    ``token`` is kept as made (32 random bytes, URL-safe), not hashed: the resident's page
    shows the address again whenever they want to add it to another device, and what it
    opens (times and places, no health data, no phone number) is read-only and revocable.
    At most one feed of a resident is live; renewing revokes the old address at once.
    """

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "resident:<id>" or "staff:<id>": who stopped it, for the resident's page and the audit.
    revoked_by: Mapped[str | None] = mapped_column(String(40))

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    def revoke(self, *, by: str, now: datetime) -> None:
        """Stop the address at once; an address already stopped stays as it was."""
        if self.revoked_at is None:
            self.revoked_at = now
            self.revoked_by = by
