"""An item a centre lends, where it is kept (a locker compartment or the counter), and the
changes of its state, each checking its transition."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base, str_enum
from booking.lending.errors import WrongLendingState

if TYPE_CHECKING:
    from booking.lending.models.tool_types import ToolType


class ItemStatus(enum.StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    ON_LOAN = "on_loan"
    OVERDUE = "overdue"
    MAINTENANCE = "maintenance"
    LOST = "lost"
    # Its compartment reported empty while the records said it was inside: never offered
    # until it is back or staff decide (booking.lending.reconciliation).
    MISSING = "missing"


class Item(Base):
    """One physical tool with an asset tag, kept in a locker compartment or at the counter."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("locker_device_id", "compartment"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    tool_type_id: Mapped[int] = mapped_column(ForeignKey("tool_types.id"), index=True)
    asset_tag: Mapped[str] = mapped_column(String(40), unique=True)
    condition: Mapped[str] = mapped_column(String(200), default="good")
    status: Mapped[ItemStatus] = mapped_column(
        str_enum(ItemStatus),
        default=ItemStatus.AVAILABLE,
    )
    # Where the item lives: a locker (by its device id) and compartment, or the counter (both None).
    locker_device_id: Mapped[str | None] = mapped_column(String(40))
    compartment: Mapped[int | None]

    tool_type: Mapped[ToolType] = relationship(back_populates="items")

    @property
    def at_counter(self) -> bool:
        return self.locker_device_id is None

    def reserve(self) -> None:
        """Held for a pickup at its locker: only an available item."""
        if self.status is not ItemStatus.AVAILABLE:
            raise WrongLendingState("the item is not available", status=self.status.value)
        self.status = ItemStatus.RESERVED

    def reservation_released(self) -> None:
        """The pickup holding it ended without a loan: it is available again."""
        if self.status is ItemStatus.RESERVED:
            self.status = ItemStatus.AVAILABLE

    def loan_overdue(self) -> None:
        """Its loan went past due: an item still out shows it."""
        if self.status is ItemStatus.ON_LOAN:
            self.status = ItemStatus.OVERDUE

    def written_off(self) -> None:
        """Staff gave up on its loan: the item is lost."""
        if self.status not in (ItemStatus.ON_LOAN, ItemStatus.OVERDUE):
            raise WrongLendingState(
                "only an item out on loan can be lost", status=self.status.value
            )
        self.status = ItemStatus.LOST

    def lend(self) -> None:
        """The item leaves with a resident: from the shelf or the counter, a held pickup, or
        a compartment the records had lost track of (a pickup confirmed late). Never from
        maintenance, nor while it is already out."""
        if self.status not in (ItemStatus.AVAILABLE, ItemStatus.RESERVED, ItemStatus.MISSING):
            raise WrongLendingState("the item cannot be lent now", status=self.status.value)
        self.status = ItemStatus.ON_LOAN

    def loan_ended(self) -> None:
        """Its loan ended: an item that was out (or written off as lost) is available again;
        one staff took to maintenance meanwhile stays there."""
        if self.status in (ItemStatus.ON_LOAN, ItemStatus.OVERDUE, ItemStatus.LOST):
            self.status = ItemStatus.AVAILABLE

    def send_to_maintenance(self, reason: str) -> None:
        """Take the item out of lending. Refused while it is held for a pickup or lent (the
        caller releases a pickup not yet at the door first): an item in maintenance is never
        out. A lost or missing item keeps its status, as it is not here to check."""
        if self.status in (ItemStatus.RESERVED, ItemStatus.ON_LOAN, ItemStatus.OVERDUE):
            raise WrongLendingState("the item is being picked up or is on loan",
                                    status=self.status.value)  # fmt: skip
        if self.status is ItemStatus.AVAILABLE:
            self.status = ItemStatus.MAINTENANCE
        self.condition = reason[:200]

    def go_missing(self) -> None:
        """Its compartment reported empty while the records said it was inside: never
        offered until it is back or staff decide (booking.lending.reconciliation). The
        caller releases any pickup holding it first."""
        if self.status not in (ItemStatus.AVAILABLE, ItemStatus.RESERVED, ItemStatus.MISSING):
            raise WrongLendingState("only an item that should be inside can go missing",
                                    status=self.status.value)  # fmt: skip
        self.status = ItemStatus.MISSING

    def found_again(self) -> bool:
        """A missing item is back in its compartment: it can be lent again. False if it was
        not missing (someone decided about it meanwhile)."""
        if self.status is not ItemStatus.MISSING:
            return False
        self.status = ItemStatus.AVAILABLE
        return True

    def given_up(self) -> bool:
        """Staff could not find a missing item: it is lost. False if it was not missing."""
        if self.status is not ItemStatus.MISSING:
            return False
        self.status = ItemStatus.LOST
        return True

    def back_in_service(self) -> None:
        """Staff checked and fixed the item: it can be lent again."""
        if self.status is not ItemStatus.MAINTENANCE:
            raise WrongLendingState("the item is not in maintenance", status=self.status.value)
        self.status = ItemStatus.AVAILABLE
        self.condition = "good"
