"""A resident: name, phone, PIN hash, card, who they are at the desk (year of birth, address,
emergency contact, language), and the centres they belong to."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.core.db import Base, UTCDateTime, str_enum
from booking.people.account_errors import AccountStateWrong

if TYPE_CHECKING:
    from booking.people.models.memberships import ResidentMembership


class DeactivationReason(enum.StrEnum):
    MOVED_AWAY = "moved_away"
    DECEASED = "deceased"
    OTHER = "other"
    MERGED = "merged"  # a second account of the same person (merged_into_id says which)


class Resident(Base):
    """A person who uses the centre. One person may be a member of several centres."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    # None until the resident chooses a PIN with a one-time code (booking.people.one_time_codes):
    # staff enrol a resident, and never see or type the PIN.
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    card_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    is_elderly: Mapped[bool] = mapped_column(default=False)
    lives_alone: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A PIN set before the PIN policy, found weak at sign-in: the kiosk asks for a new one
    # before anything else (booking.people.pin_policy).
    pin_change_required: Mapped[bool] = mapped_column(default=False, server_default=false())

    birth_year: Mapped[int | None] = mapped_column()
    building: Mapped[str | None] = mapped_column(String(40))
    unit: Mapped[str | None] = mapped_column(String(20))
    room: Mapped[str | None] = mapped_column(String(20))
    emergency_contact_name: Mapped[str | None] = mapped_column(String(60))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(20))
    preferred_language: Mapped[str] = mapped_column(
        String(8), default="zh_CN", server_default="zh_CN"
    )
    # Accounts (booking.people.deactivation): a deactivated resident cannot sign in or be
    # identified by card; erased_at is when the retention job erased their personal data.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivation_reason: Mapped[DeactivationReason | None] = mapped_column(
        str_enum(DeactivationReason)
    )
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("residents.id", ondelete="SET NULL")
    )
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[ResidentMembership]] = relationship(
        back_populates="resident", cascade="all, delete-orphan"
    )

    def require_new_pin(self) -> None:
        self.pin_change_required = True

    def set_pin(self, pin_hash: str) -> None:
        """A PIN the resident chose under the policy: nothing more is asked of them."""
        self.pin_hash = pin_hash
        self.pin_change_required = False

    def change_details(self, values: dict[str, object]) -> list[str]:
        """Set the details staff corrected at the desk; return the names of those that
        changed (booking.people.resident_details)."""
        changed = []
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)
                changed.append(name)
        return changed

    def clear_pin(self) -> None:
        """Staff reset a forgotten PIN: the old one stops opening at once, and the resident
        chooses the next with a one-time code."""
        self.pin_hash = None
        self.pin_change_required = False

    @property
    def has_pin(self) -> bool:
        return self.pin_hash is not None

    @property
    def address(self) -> str:
        """Building, unit and room as the desk writes them (楼 单元 室), blank parts left out."""
        return " ".join(part for part in (self.building, self.unit, self.room) if part)

    @property
    def is_active(self) -> bool:
        return self.deactivated_at is None

    def deactivate(
        self, reason: DeactivationReason, now: datetime, merged_into: int | None = None
    ) -> None:
        if not self.is_active:
            raise AccountStateWrong("the account is already deactivated")
        self.deactivated_at = now
        self.deactivation_reason = reason
        self.merged_into_id = merged_into

    def reactivate(self) -> None:
        if self.is_active:
            raise AccountStateWrong("the account is active")
        if self.erased_at is not None:
            raise AccountStateWrong("the account's personal data is erased")
        self.deactivated_at = None
        self.deactivation_reason = None
        self.merged_into_id = None

    def mark_erased(self, now: datetime) -> None:
        if self.is_active:
            raise AccountStateWrong("only a deactivated account is erased")
        self.erased_at = now

    @property
    def masked_name(self) -> str:
        """The name as kiosk screens show it: 张三 → 张*, 张小三 → 张*三."""
        return mask_name(self.name)


def mask_name(name: str) -> str:
    """Hide the middle of a name so a passer-by cannot read it off the screen."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
