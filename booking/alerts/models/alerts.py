from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import Conflict


class AlertSeverity(enum.StrEnum):
    URGENT = "urgent"  # someone must act now: a grade 3 reading, a forced-open door
    WARNING = "warning"  # act today: a door left open, a damaged return, a device offline
    INFO = "info"


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # someone is on it
    RESOLVED = "resolved"


def _created_at(context: DefaultExecutionContext) -> Any:
    return context.get_current_parameters()["created_at"]  # type: ignore[no-untyped-call]


class StaffAlert(Base):
    """Something staff must look at, from any part of the centre, until someone resolves it.

    ``kind`` is a dotted code ("bp.urgent", "locker.door_left_open", "loan.overdue") that the
    console translates; ``dedupe_key`` keeps one open alert per cause (the same door left open
    reported twice is one alert).
    """

    __tablename__ = "staff_alerts"
    __table_args__ = (
        Index("ix_staff_alerts_site_status", "site_id", "status"),
        Index("ix_staff_alerts_dedupe", "site_id", "dedupe_key"),
        # One unresolved alert per cause, by construction: two processes raising the same
        # alert at once (two schedulers, for a moment) cannot both insert it.
        Index(
            "ux_staff_alerts_open_cause",
            "site_id",
            "dedupe_key",
            unique=True,
            sqlite_where=text("status != 'resolved' AND dedupe_key IS NOT NULL"),
            postgresql_where=text("status != 'resolved' AND dedupe_key IS NOT NULL"),
        ),
        Index("ix_staff_alerts_site_changed", "site_id", "changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(60))
    severity: Mapped[AlertSeverity] = mapped_column(str_enum(AlertSeverity))
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus), default=AlertStatus.OPEN)
    # Plain English words for logs and CSV, and the console's fallback; never a blood-pressure
    # value (lists must not show readings).
    summary: Mapped[str] = mapped_column(String(300))
    # What the console needs to word the summary in the viewer's language ("device", "asset"…);
    # ``kiosk.staff.alerts.words`` renders it per kind. Same rule: never a reading.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    subject: Mapped[str] = mapped_column(String(80), default="")  # "resident:17", "device:locker-a"
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    # When the alert was raised, acknowledged or resolved last: open inboxes poll by it to
    # move or remove an alert a colleague acted on.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_created_at)

    # --- state changes: the only writers of ``status`` (open -> acknowledged -> resolved) ---

    def acknowledge(self, *, staff_id: int, now: datetime) -> None:
        """Someone is on it. Acknowledging again changes nothing; a resolved alert is done."""
        if self.status is AlertStatus.RESOLVED:
            raise Conflict("the alert is already resolved", alert_id=self.id)
        if self.status is AlertStatus.OPEN:
            self.status = AlertStatus.ACKNOWLEDGED
            self.acknowledged_at = now
            self.acknowledged_by_staff_id = staff_id

    def resolve(self, *, now: datetime, staff_id: int | None = None) -> None:
        """The cause is dealt with, by a staff member or (no one named) by itself."""
        if self.status is AlertStatus.RESOLVED:
            raise Conflict("the alert is already resolved", alert_id=self.id)
        self.status = AlertStatus.RESOLVED
        self.resolved_at = now
        self.resolved_by_staff_id = staff_id
