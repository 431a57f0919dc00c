"""A fault a device shows (its clock, its session counter, a jammed compartment), open until it
closes by itself or staff close it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime, str_enum


class FaultKind(enum.StrEnum):
    JAMMED = "jammed"
    DOOR_LEFT_OPEN = "door_left_open"
    FORCED_OPEN = "forced_open"
    # Device-wide (no compartment): its clock is off by more than the protocol allows.
    DEVICE_CLOCK = "device_clock"
    # Device-wide: it connected with a session counter below the one the server knows (its
    # storage was lost); it is not heard until an admin resets the counter on the board.
    SESSION_BEHIND = "session_behind"


class DeviceFault(Base):
    """A fault a device reported, open until the device reports it cleared."""

    __tablename__ = "device_faults"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id"), index=True)
    compartment: Mapped[int | None]
    kind: Mapped[FaultKind] = mapped_column(str_enum(FaultKind))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
