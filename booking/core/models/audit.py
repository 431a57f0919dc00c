from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime


class AuditEntry(Base):
    """One thing a person or a device did, appended and never changed.

    ``actor`` says who in words that survive the account (``staff:zhao``, ``resident:17``,
    ``device:locker-a``, ``system``); the ids let the console link to the account.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_site_at", "site_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    # A dotted verb: "health.viewed", "booking.approved", "locker.opened_for_maintenance".
    action: Mapped[str] = mapped_column(String(60), index=True)
    # What it was done to: "resident:17", "booking:203", "item:DR-001".
    subject: Mapped[str] = mapped_column(String(80), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
