"""Tokens with which programs call the API, each for one site, some scopes and a while."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime
from booking.core.errors import Conflict


class ApiToken(Base):
    """A program's key to the API. Only the token's SHA-256 is kept: it is shown once, when
    made, and a copy of this table opens nothing. ``prefix`` (its first characters) is what
    the console shows to tell tokens apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, *, staff_id: int, now: datetime) -> None:
        """Stop the token at once; a second revocation changes nothing and says so."""
        if self.revoked_at is not None:
            raise Conflict("this token was already revoked")
        self.revoked_at = now
        self.revoked_by_staff_id = staff_id

    def used(self, now: datetime) -> None:
        self.last_used_at = now
