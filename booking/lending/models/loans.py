"""Loans: who has which item, since when, until when, and how it came back. The site's policy,
suspensions and the append-only history (``policies``, ``suspensions``, ``events``) sit beside
this module; pickups and returns at a locker are door sessions (``door_sessions``).

State lives on the rows (``Item.status``, ``Loan.status``, ``DoorSession.state``); the
history (``events.LendingEvent``) says who changed it, when, and which device confirmed it.
Every change goes through :mod:`booking.lending.operations`, which writes both in one transaction, so
the last event of an item always names the item's current status.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.lending.errors import WrongLendingState


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
    # What the loan slip's QR code carries (never the id): unguessable, so only the slip's
    # holder can start its return by scanning it (booking/lending/slip_tokens.py).
    slip_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # How many times the loan was renewed (each one is a RENEWED event with both due dates).
    renewals: Mapped[int] = mapped_column(default=0)

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    def give_slip_token(self, token: str) -> str:
        """The slip's token, given once: a slip printed earlier keeps working."""
        if self.slip_token is None:
            self.slip_token = token
        return self.slip_token

    def go_overdue(self, now: datetime) -> None:
        """An active loan past its due date."""
        if self.status is not LoanStatus.ACTIVE:
            raise WrongLendingState("only an active loan goes overdue", status=self.status.value)
        self.status = LoanStatus.OVERDUE
        self.overdue_since = now

    def renew(self, due_at: datetime) -> None:
        """Keep the tool longer: an active loan gets a later due date."""
        if self.status is not LoanStatus.ACTIVE:
            raise WrongLendingState("only an active loan is renewed", status=self.status.value)
        if due_at <= self.due_at:
            raise WrongLendingState("a renewal moves the due date later")
        self.due_at = due_at
        self.renewals += 1

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
