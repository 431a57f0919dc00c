"""Failed sign-ins, one row each, shared by every web worker through the database."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum


class SignInKind(enum.StrEnum):
    RESIDENT = "resident"  # phone and PIN, at a kiosk
    STAFF = "staff"  # username and password, at the console


class SignInFailure(Base):
    """One wrong PIN or password: when, from which client, for which account.

    The account is what was typed (a phone, a username), known or not, so the throttle
    says nothing about who is registered. Never the PIN or password. Rows older than the
    throttle remembers are deleted as new ones come (booking.people.sign_in_guard).
    """

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_client", "client", "at"),
        Index("ix_sign_in_failures_account", "kind", "account", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SignInKind] = mapped_column(str_enum(SignInKind))
    account: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
