"""Reconciliation: where a locker's full state and the lending records disagree.

Each :class:`LendingMismatch` is one episode of one disagreement at one compartment, from the
full state that first showed it until it ends. It ends (``cleared_at``) when a later full
state no longer shows it, or when staff change the records so that it cannot hold any more.
Staff resolve it (``resolved_at``) with a required note; one the locker stops showing before
staff get to it is resolved as ``cleared`` by the device. Rows are never deleted: the console
keeps the history.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.lending.errors import MismatchAlreadyResolved, ResolutionDoesNotFit


class MismatchKind(enum.StrEnum):
    # The item is in its compartment while an open loan says it is out ("returned without a
    # return?"). Nothing changes until staff look: the loan may be right and the compartment
    # hold something else.
    PRESENT_DURING_LOAN = "present_during_loan"
    # The compartment is empty while the records say the item is in it: the item is
    # ``missing`` and never offered until it is back or staff decide.
    ITEM_ABSENT = "item_absent"


class MismatchResolution(enum.StrEnum):
    RETURNED = "returned"  # present during loan: the tool is back; the loan ends at the counter
    STILL_OUT = "still_out"  # present during loan: something else is inside; the loan stays open
    FOUND = "found"  # absent: the tool is back in its compartment; it can be lent again
    LOST = "lost"  # absent: the tool is gone for good
    CLEARED = "cleared"  # the locker's next full state agreed with the records again


RESOLUTIONS_OF_KIND: dict[MismatchKind, tuple[MismatchResolution, ...]] = {
    MismatchKind.PRESENT_DURING_LOAN: (MismatchResolution.RETURNED, MismatchResolution.STILL_OUT),
    MismatchKind.ITEM_ABSENT: (MismatchResolution.FOUND, MismatchResolution.LOST),
}
# Resolutions that leave the records as they were: the episode goes on (and is not raised
# again) until the locker stops showing it. The others change the records, so the next full
# state judges afresh.
_ACCEPTING = frozenset({MismatchResolution.STILL_OUT})


class LendingMismatch(Base):
    """One disagreement between a locker compartment and the records, and what became of it."""

    __tablename__ = "lending_mismatches"
    __table_args__ = (
        # One episode at a time per item: a disagreement still shown is never raised twice.
        Index(
            "ux_lending_mismatches_current_item",
            "item_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
        Index("ix_lending_mismatches_device", "device_id", "cleared_at"),
        Index("ix_lending_mismatches_site_resolved", "site_id", "resolved_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[MismatchKind] = mapped_column(str_enum(MismatchKind))
    # No foreign key to the device registry: booking's tables do not depend on devices'.
    device_id: Mapped[str] = mapped_column(String(40))
    compartment: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    # The open loan that says the item is out (present during loan).
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    # The full state that first showed it: the device message (session, seq).
    device_session: Mapped[int | None] = mapped_column(BigInteger)
    device_seq: Mapped[int | None] = mapped_column(BigInteger)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("staff_alerts.id"))
    resolution: Mapped[MismatchResolution | None] = mapped_column(str_enum(MismatchResolution))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    @property
    def is_open(self) -> bool:
        """Waiting for staff."""
        return self.resolved_at is None

    @property
    def is_current(self) -> bool:
        """Still the episode of its item: a full state showing it again changes nothing."""
        return self.cleared_at is None

    @property
    def resolutions(self) -> tuple[MismatchResolution, ...]:
        return RESOLUTIONS_OF_KIND[self.kind]

    def seen_again(self, now: datetime) -> None:
        if now > self.last_seen_at:
            self.last_seen_at = now

    def resolve(
        self, resolution: MismatchResolution, *, staff_id: int, note: str, now: datetime
    ) -> None:
        """Staff decided; a resolution that changed the records ends the episode."""
        if not self.is_open:
            raise MismatchAlreadyResolved("the mismatch is already resolved", mismatch_id=self.id)
        if resolution not in self.resolutions:
            raise ResolutionDoesNotFit(
                "that resolution does not fit this mismatch", resolution=resolution.value
            )
        self.resolution = resolution
        self.resolved_at = now
        self.resolved_by_staff_id = staff_id
        self.note = note
        if resolution not in _ACCEPTING and self.cleared_at is None:
            self.cleared_at = now

    def clear(self, now: datetime) -> bool:
        """The locker no longer shows it (or the records moved on); True if it was still
        waiting for staff, who need not act on it any more."""
        if self.cleared_at is None:
            self.cleared_at = now
        if not self.is_open:
            return False
        self.resolution = MismatchResolution.CLEARED
        self.resolved_at = now
        return True
