"""Commands waiting for the worker's bridge to publish them: how the web reaches devices
without MQTT."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime


class CommandOutbox(Base):
    """A command waiting for the worker's bridge to publish it; the web never publishes.

    Written in the transaction that issues the command (:func:`devices.commands.operations.issue`), so a
    command is recorded together with its request to be sent, and only the process that
    records replies and events (the bridge) sends it. The bridge deletes the row as it takes
    it; a command whose expiry passed before that is never sent (:mod:`devices.commands.outbox`).
    """

    __tablename__ = "device_command_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    command_id: Mapped[str] = mapped_column(
        ForeignKey("device_commands.id", ondelete="CASCADE"), index=True
    )
    # The command's site slug: each site's bridge takes its own.
    site: Mapped[str] = mapped_column(String(40), index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
