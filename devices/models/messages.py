"""The ledger of applied device messages: each (device, session, seq) once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime


class DeviceMessage(Base):
    """One applied device message (birth, state, event, reply): the ledger behind exactly-once.

    (device_id, session, seq) is unique, so a message delivered twice is applied once. The
    payload is kept without health values: a ``reading`` loses its measurements here (the
    health module receives them through its handler, with its own consent checks).
    """

    __tablename__ = "device_messages"
    __table_args__ = (UniqueConstraint("device_id", "session", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id"))
    session: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str | None] = mapped_column(String(32), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    device_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
