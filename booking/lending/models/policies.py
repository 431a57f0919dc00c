"""A site's lending policy: the limits, holds, door timeout and overdue rules staff set (the
model's defaults apply until they do)."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base


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
    # A loan may be renewed this many times (by the resident or staff), each time by the
    # tool type's loan period, and only while nobody waits for the tool type.
    max_renewals: Mapped[int] = mapped_column(default=1)
    # Staff's rule for a reserved tool nobody collected within its hold: counted as a seat
    # no-show is (a strike towards the same suspension), or only recorded.
    no_show_strikes: Mapped[bool] = mapped_column(default=True)
