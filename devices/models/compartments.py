"""A locker compartment as the locker last reported it: its lock, its door, its item sensor."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime, str_enum


class LockState(enum.StrEnum):
    LOCKED = "locked"
    UNLOCKED = "unlocked"
    LOCKING = "locking"
    UNLOCKING = "unlocking"
    JAMMED = "jammed"
    OPEN = "open"


class DoorState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Compartment(Base):
    """A locker compartment as the device last reported it.

    Each field carries the (session, seq) of the message that set it, packed into one
    integer (:func:`devices.fleet.registry.version`), so a late, older message never overwrites
    what a newer one said.
    """

    __tablename__ = "device_compartments"
    __table_args__ = (UniqueConstraint("device_id", "n"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id"))
    n: Mapped[int]
    lock: Mapped[LockState | None] = mapped_column(str_enum(LockState))
    door: Mapped[DoorState | None] = mapped_column(str_enum(DoorState))
    item_present: Mapped[bool | None]
    lock_version: Mapped[int] = mapped_column(BigInteger, default=-1)
    door_version: Mapped[int] = mapped_column(BigInteger, default=-1)
    item_version: Mapped[int] = mapped_column(BigInteger, default=-1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @classmethod
    def unheard(cls, device_id: str, n: int, now: datetime) -> Compartment:
        """Compartment ``n`` of a device before the device has said anything about it: every
        version -1, so the first report of each field is taken."""
        return cls(
            device_id=device_id,
            n=n,
            lock_version=-1,
            door_version=-1,
            item_version=-1,
            updated_at=now,
        )
