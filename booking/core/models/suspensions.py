"""What every suspension of a resident has, whatever it suspends: its period at a site, and
its early lifting by staff. Seat booking (no-shows) and lending (overdue loans) each keep a
table of their own, because each is counted and lifted by its own rules; this mixin gives
both the same columns and the same change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import UTCDateTime


class SuspensionPeriod:
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Staff may lift a suspension early; it then stops counting from ``lifted_at`` on, and
    # ``ends_at`` keeps the end it would have had.
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    lift_reason: Mapped[str] = mapped_column(String(300), default="")

    def lift(self, *, staff_id: int, reason: str, now: datetime) -> None:
        """Lifted early by a member of staff, with the reason they gave (the caller has
        checked that this suspension may still be lifted, by its own rules)."""
        self.lifted_at = now
        self.lifted_by_staff_id = staff_id
        self.lift_reason = reason[:300]
