"""Lending: loans, the site's lending policy, lending suspensions, and the append-only history
every change of an item or loan writes (pickups and returns at a locker are door sessions,
:mod:`booking.lending.models.door_sessions`).

State lives on the rows (``Item.status``, ``Loan.status``, ``DoorSession.state``); the
history (:class:`LendingEvent`) says who changed it, when, and which device confirmed it.
Every change goes through :mod:`booking.lending.operations`, which writes both in one transaction, so
the last event of an item always names the item's current status.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.lending.errors import WrongLendingState
from booking.lending.models.tools import ItemStatus


class LoanStatus(enum.StrEnum):
    ACTIVE = "active"
    OVERDUE = "overdue"
    RETURNED = "returned"
    LOST = "lost"

    @property
    def is_open(self) -> bool:
        return self in (LoanStatus.ACTIVE, LoanStatus.OVERDUE)


OPEN_LOAN_STATUSES = (LoanStatus.ACTIVE, LoanStatus.OVERDUE)


class LoanChannel(enum.StrEnum):
    LOCKER = "locker"
    COUNTER = "counter"


class ReturnCondition(enum.StrEnum):
    FINE = "fine"
    DAMAGED = "damaged"
    PARTS_MISSING = "parts_missing"


class LendingPolicy(Base):
    """A site's lending rules. A site without a row uses the defaults below
    (:func:`booking.lending.operations.policy_for`); the loan period is per tool type
    (``ToolType.loan_days``)."""

    __tablename__ = "lending_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), unique=True)
    max_items_on_loan: Mapped[int] = mapped_column(default=3)
    # How long a reserved item is kept for its resident to collect it.
    hold_minutes: Mapped[int] = mapped_column(default=120)
    # A compartment unlocked for a pickup or return that nobody opens is given up after this.
    door_open_timeout_s: Mapped[int] = mapped_column(default=60)
    # `overdue_strikes` loans gone overdue within `overdue_window_days` suspend borrowing
    # for `suspension_days`.
    overdue_strikes: Mapped[int] = mapped_column(default=2)
    overdue_window_days: Mapped[int] = mapped_column(default=90)
    suspension_days: Mapped[int] = mapped_column(default=30)
    # An overdue loan still out this many days after its due date alerts staff.
    escalate_after_days: Mapped[int] = mapped_column(default=3)


class LendingSuspension(Base):
    """A resident may not borrow at a site from ``starts_at`` until ``ends_at``
    (separate from seat-booking suspensions: a late drill should not cost a study seat)."""

    __tablename__ = "lending_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(100), default="overdue_loans")
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    lift_reason: Mapped[str] = mapped_column(String(300), default="")


class Loan(Base):
    """An item in a resident's hands. A locker loan is created only when the locker reported
    the item gone from its compartment; a counter loan when staff hand it over."""

    __tablename__ = "loans"
    __table_args__ = (
        # One open loan per item, by construction.
        Index(
            "ux_loans_open_item",
            "item_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL AND status != 'lost'"),
            postgresql_where=text("returned_at IS NULL AND status != 'lost'"),
        ),
        # The records page: newest first within a site, optionally narrowed by one column.
        Index("ix_loans_site_started", "site_id", "started_at", "id"),
        Index("ix_loans_site_status_due", "site_id", "status", "due_at"),
        Index("ix_loans_resident_started", "resident_id", "started_at"),
        Index("ix_loans_item_started", "item_id", "started_at"),
        Index("ix_loans_tool_type_started", "tool_type_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    # Copied from the item so the records page filters by tool without a join.
    tool_type_id: Mapped[int] = mapped_column(ForeignKey("tool_types.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    channel: Mapped[LoanChannel] = mapped_column(str_enum(LoanChannel))
    status: Mapped[LoanStatus] = mapped_column(str_enum(LoanStatus), default=LoanStatus.ACTIVE)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A locker pickup whose "item removed" arrived after the pickup had been given up (a
    # retry after an outage): the loan stands, and staff were asked to check it.
    confirmed_late: Mapped[bool] = mapped_column(default=False)
    lent_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    returned_to_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    return_condition: Mapped[ReturnCondition | None] = mapped_column(str_enum(ReturnCondition))
    return_note: Mapped[str] = mapped_column(Text, default="")
    # Overdue handling: when the job marked it, when the resident saw the reminder at the
    # kiosk, when staff were alerted, and the suspension it counted towards (once only).
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_id: Mapped[int | None] = mapped_column(ForeignKey("lending_suspensions.id"))

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def go_overdue(self, now: datetime) -> None:
        """An active loan past its due date."""
        if self.status is not LoanStatus.ACTIVE:
            raise WrongLendingState("only an active loan goes overdue", status=self.status.value)
        self.status = LoanStatus.OVERDUE
        self.overdue_since = now

    def write_off(self) -> None:
        """Staff give up on an open loan's tool: lost."""
        if not self.is_open:
            raise WrongLendingState("only an open loan can be marked lost", state=self.status)
        self.status = LoanStatus.LOST

    def end(self, now: datetime) -> None:
        """The tool is back: the loan is returned, whatever it was (a lost one found again
        ends too). Ending a returned loan again would rewrite when it ended, so it is refused."""
        if self.status is LoanStatus.RETURNED:
            raise WrongLendingState("the loan has already ended", status=self.status.value)
        self.status = LoanStatus.RETURNED
        self.returned_at = now


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
