"""One-time codes with which a resident chooses a PIN at the kiosk (after enrolment, or after
staff reset a forgotten one): only a hash is kept, each is used once, within a day."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import Conflict


class CodePurpose(enum.StrEnum):
    ENROL = "enrol"  # a new resident's first PIN
    PIN_RESET = "pin_reset"  # a forgotten PIN, after staff checked who the resident is
    SIGN_IN = "sign_in"  # asked for by the resident on their phone, sent by SMS


class ResidentCode(Base):
    """One code printed on a slip. ``code_hash`` is an argon2id hash (booking.people.passwords):
    eight digits are few enough that a plain digest in a copy of the database would give
    every live code away in seconds."""

    __tablename__ = "resident_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    purpose: Mapped[CodePurpose] = mapped_column(str_enum(CodePurpose))
    code_hash: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def is_live(self, now: datetime) -> bool:
        return self.used_at is None and self.voided_at is None and now < self.expires_at

    def use(self, now: datetime) -> None:
        if not self.is_live(now):
            raise Conflict("this code is used, replaced or expired")
        self.used_at = now

    def void(self, now: datetime) -> None:
        """A newer slip replaces this one; a code already used or voided stays as it was."""
        if self.used_at is None and self.voided_at is None:
            self.voided_at = now
