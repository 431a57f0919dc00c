from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class MessagePreference(Base):
    """A resident's choice for one kind of message by SMS.

    No row means the kind's default (booking.messages.kinds): on for what the resident
    would otherwise miss, off for a message to their emergency contact, which needs the
    resident's recorded consent (``recorded_by_staff_id`` says who recorded it).
    """

    __tablename__ = "message_preferences"
    __table_args__ = (UniqueConstraint("resident_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    sms: Mapped[bool]
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="SET NULL")
    )

    def choose(self, sms: bool, now: datetime, staff_id: int | None = None) -> None:
        self.sms = sms
        self.changed_at = now
        self.recorded_by_staff_id = staff_id
