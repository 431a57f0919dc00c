"""Messages the bridge refused, kept with the reason (and never a health value in the clear)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime


class DeadLetter(Base):
    """A message the bridge refused or could not apply, kept for staff to inspect.

    ``device_id`` is what the topic claimed, known or not (no foreign key: an unregistered
    device's message is exactly what lands here). A device re-sends an event it was not
    acknowledged for (every 60 s at most, and after every reconnect), and one acknowledged
    may cross its ack: the same message refused again is one letter that came ``repeats``
    more times, ``received_at`` the last (what retention counts from), not a letter each time.
    """

    __tablename__ = "device_dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(String(500), default="")
    device_id: Mapped[str | None] = mapped_column(String(40))
    # At most the protocol's 8 KiB: an oversized message is cut, never stored whole.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # SHA-256 of topic and payload, how the same message refused again is found. Letters
    # kept before it existed got theirs in migration 0021l; the column stays nullable as
    # 0020d made it.
    digest: Mapped[str | None] = mapped_column(String(64), index=True)
    repeats: Mapped[int] = mapped_column(default=0, server_default="0")
    # The site the topic named, when it is one of ours: its health retention period applies.
    site_id: Mapped[int | None]
    # The payload may hold health data (a reading's values, a card id, or bytes nobody can
    # read): such a letter is purged with the health records (:mod:`devices.ingest.dead_letters`).
    health_data: Mapped[bool] = mapped_column(default=False)
    # The card the payload named, so a withdrawal of consent finds the letter.
    card_id: Mapped[str | None] = mapped_column(String(64), index=True)

    def refused_again(self, received_at: datetime) -> None:
        """The same message came and was refused once more."""
        self.repeats += 1
        self.received_at = max(self.received_at, received_at)
