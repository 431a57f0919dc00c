"""Failed sign-ins counted per phone, so a stranger guessing PINs is slowed down."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class SignInThrottle(Base):
    """Wrong-PIN counts per phone number, kept whether or not the phone belongs to anyone.

    Counting unknown phones too means a lockout says nothing about who is registered.
    """

    __tablename__ = "sign_in_throttles"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
