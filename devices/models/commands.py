"""A command sent to a device, and the answers that move its state; the device's own events,
not the command, tell what happened in the world."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import Conflict


class CommandState(enum.StrEnum):
    """Where a server→device command stands; the last four are final and never change again."""

    CREATED = "created"
    SENT = "sent"
    ACCEPTED = "accepted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_COMMAND_STATES


_FINAL_COMMAND_STATES = frozenset(
    {CommandState.SUCCEEDED, CommandState.FAILED, CommandState.REJECTED, CommandState.TIMED_OUT}
)


# What each answer does to a command's state; a state missing from a row refuses it.
# Replies may overtake the `sent` mark, so every open state accepts every answer.
COMMAND_TRANSITIONS: dict[str, dict[CommandState, CommandState]] = {
    "accept": {
        CommandState.CREATED: CommandState.ACCEPTED,
        CommandState.SENT: CommandState.ACCEPTED,
        CommandState.ACCEPTED: CommandState.ACCEPTED,
    },
    "succeed": {
        CommandState.CREATED: CommandState.SUCCEEDED,
        CommandState.SENT: CommandState.SUCCEEDED,
        CommandState.ACCEPTED: CommandState.SUCCEEDED,
    },
    # Refused before starting is a rejection; giving up after accepting is a failure.
    "refuse": {
        CommandState.CREATED: CommandState.REJECTED,
        CommandState.SENT: CommandState.REJECTED,
        CommandState.ACCEPTED: CommandState.FAILED,
    },
    "time_out": {
        CommandState.CREATED: CommandState.TIMED_OUT,
        CommandState.SENT: CommandState.TIMED_OUT,
        CommandState.ACCEPTED: CommandState.TIMED_OUT,
    },
}


# Why a command timed out: it reached the device and no answer came, or it never got out.
REASON_NO_REPLY = "no_reply"


REASON_NOT_DELIVERED = "not_delivered"


class WrongCommandState(Conflict):
    """A final command never changes again."""

    code = "wrong_command_state"


class DeviceCommand(Base):
    """One command sent to a device; ``id`` is the uuid4 the device uses as idempotency key.

    The row records what the device answered, never what happened in the world: a locker's
    own events (``door_opened``) are the facts; see :mod:`devices.commands.operations`.
    """

    __tablename__ = "device_commands"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.device_id"), index=True)
    # The site slug at issue time: the topic the command went to, even if the device moves later.
    site: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[CommandState] = mapped_column(
        str_enum(CommandState), default=CommandState.CREATED, index=True
    )
    # The device's reason code when rejected or failed ("jammed", "expired", …).
    reason: Mapped[str | None] = mapped_column(String(40))
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A retry republishes the same id; how often and when last, for the staff console.
    send_count: Mapped[int] = mapped_column(default=0)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def _move(self, change: str) -> CommandState:
        target = COMMAND_TRANSITIONS[change].get(self.state)
        if target is None:
            raise WrongCommandState(f"cannot {change} a command that is {self.state}")
        self.state = target
        return target

    def published(self, now: datetime) -> None:
        """The broker acknowledged (another) publication: ``created`` becomes ``sent``; a
        command further on keeps its state (the device may have answered first)."""
        self.send_count += 1
        self.last_sent_at = now
        if self.sent_at is None:
            self.sent_at = now
        if self.state is CommandState.CREATED:
            self.state = CommandState.SENT

    def accept(self, now: datetime) -> None:
        """The device started on it (told once; a repeated `accepted` changes nothing)."""
        if self.state is not CommandState.ACCEPTED:
            self.accepted_at = now
        self._move("accept")

    def succeed(self, now: datetime) -> None:
        self._move("succeed")
        self.finished_at = now

    def refuse(self, reason: str, now: datetime) -> None:
        self._move("refuse")
        self.reason = reason[:40]
        self.finished_at = now

    def time_out(self, now: datetime) -> None:
        self._move("time_out")
        # An acceptance proves delivery even when the PUBACK was never recorded.
        delivered = self.sent_at is not None or self.accepted_at is not None
        self.reason = REASON_NO_REPLY if delivered else REASON_NOT_DELIVERED
        self.finished_at = now
