"""Tables of the device side: the registry of devices and their broker credentials."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import booking.tables  # noqa: F401  (sites, which devices refer to)
from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import Conflict


class DeviceKind(enum.StrEnum):
    LOCKER = "locker"
    BP_TERMINAL = "bp_terminal"


class Device(Base):
    """A locker or terminal at a site, as the server knows it.

    ``device_id`` is unique across the deployment: it is the broker username, the
    MQTT client id and a segment of every topic the device uses.
    """

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[DeviceKind] = mapped_column(str_enum(DeviceKind))
    name: Mapped[str] = mapped_column(String(100), default="")
    # The broker password, hashed for Mosquitto's password file (PBKDF2-SHA512, its own format).
    mqtt_password_hash: Mapped[str] = mapped_column(String(200))
    firmware: Mapped[str | None] = mapped_column(String(40))
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    online: Mapped[bool] = mapped_column(default=False)
    online_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Sparkplug's bdSeq: the device's connect counter, to tell a stale Last Will from a live one.
    session_counter: Mapped[int | None]
    last_seq: Mapped[int | None]
    # From the device's birth; the silence check allows three missed heartbeats.
    heartbeat_s: Mapped[int | None]
    # The newest (session, seq), packed as devices.fleet.registry.version, whose ledger row the
    # retention job may have deleted: at or below it, a message missing from the ledger may
    # have been applied already (devices/fleet/retention.py).
    ledger_pruned_through: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


# --- ingest: what the bridge applied, what it refused, and the device state it keeps -----------


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


class DeadLetter(Base):
    """A message the bridge refused or could not apply, kept for staff to inspect.

    ``device_id`` is what the topic claimed, known or not (no foreign key: an unregistered
    device's message is exactly what lands here).
    """

    __tablename__ = "device_dead_letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(String(500), default="")
    device_id: Mapped[str | None] = mapped_column(String(40))
    # At most the protocol's 8 KiB: an oversized message is cut, never stored whole.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The site the topic named, when it is one of ours: its health retention period applies.
    site_id: Mapped[int | None]
    # The payload may hold health data (a reading's values, a card id, or bytes nobody can
    # read): such a letter is purged with the health records (:mod:`devices.ingest.dead_letters`).
    health_data: Mapped[bool] = mapped_column(default=False)
    # The card the payload named, so a withdrawal of consent finds the letter.
    card_id: Mapped[str | None] = mapped_column(String(64), index=True)


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


# --- the command outbox and the device link: how the web reaches devices without MQTT --------


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


class LinkState(enum.StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    STOPPED = "stopped"


class DeviceLink(Base):
    """A site's bridge as the web sees it: whether it runs and is connected to the broker.

    The bridge writes the row when its connection changes and beats it every few seconds
    (:mod:`devices.fleet.link_status`); a beat too old means the worker is gone, however it ended.
    """

    __tablename__ = "device_links"

    site: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    state: Mapped[LinkState] = mapped_column(str_enum(LinkState))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)
