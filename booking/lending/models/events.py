"""The append-only lending history: every change of an item or loan writes one event, naming
who made it and which device confirmed it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.lending.models.loans import LoanStatus
from booking.lending.models.tools import ItemStatus


class LendingAction(enum.StrEnum):
    """What a :class:`LendingEvent` records."""

    RESERVED = "reserved"
    OPEN_REQUESTED = "open_requested"  # pickup, return or maintenance open issued
    DOOR_OPENED = "door_opened"
    # A pickup's door closed after the tool left: the pickup is over at the locker too.
    DOOR_CLOSED = "door_closed"
    RESERVATION_RELEASED = "reservation_released"  # a pickup's door session released
    LENT = "lent"  # a loan began (locker: item left the compartment; counter: handed over)
    RETURN_RELEASED = "return_released"  # a return's door session released
    RETURNED = "returned"
    CONDITION_REPORTED = "condition_reported"
    TO_MAINTENANCE = "to_maintenance"
    BACK_IN_SERVICE = "back_in_service"
    MARKED_OVERDUE = "marked_overdue"
    OVERDUE_ESCALATED = "overdue_escalated"
    MARKED_LOST = "marked_lost"
    DOOR_LEFT_OPEN = "door_left_open"
    FORCED_OPEN = "forced_open"
    ITEM_MISSING = "item_missing"  # gone from its compartment with no pickup under way
    ITEM_FOUND = "item_found"  # a missing item back in its compartment (reconciliation)
    # In its compartment while its loan is open: "returned without a return?" (reconciliation)
    PRESENT_DURING_LOAN = "present_during_loan"
    UNEXPECTED_ITEM = "unexpected_item"  # something appeared where nothing was expected
    JAMMED = "jammed"
    MAINTENANCE_OPEN = "maintenance_open"
    RENEWED = "renewed"  # a loan's due date moved later (``detail``: both dates)


class LendingEvent(Base):
    """One change of an item or loan; append-only (nothing updates or deletes these rows).

    ``item_status`` is the item's status right after the change, so the history alone tells
    an item's status at any moment, and the last event's must equal ``Item.status``.
    ``actor`` is "resident:17", "staff:3", "device:locker-a" or "system:<job>". A change a
    device confirmed names the device message (device id, session, seq) that did it.
    """

    __tablename__ = "lending_events"
    __table_args__ = (
        Index("ix_lending_events_item_at", "item_id", "at", "id"),
        Index("ix_lending_events_resident_at", "resident_id", "at"),
        Index("ix_lending_events_site_at", "site_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    item_status: Mapped[ItemStatus] = mapped_column(str_enum(ItemStatus))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"), index=True)
    loan_status: Mapped[LoanStatus | None] = mapped_column(str_enum(LoanStatus))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    # The pickup or return (door session) the change belongs to.
    door_session_id: Mapped[int | None] = mapped_column(ForeignKey("door_sessions.id"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[LendingAction] = mapped_column(str_enum(LendingAction))
    device_command_id: Mapped[str | None] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(40))
    device_session: Mapped[int | None] = mapped_column(BigInteger)
    device_seq: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
