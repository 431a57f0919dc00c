"""The locker door session: one door cycle of one compartment, for a pickup or a return.

A pickup and a return take the same steps at a compartment, so they are one model with a
purpose, not two state machines::

    reserved ─┐                      (recorded, nothing opened yet; a pickup's item is held)
              ├─▶ waiting ─────┐     (the compartment is still closing from the last cycle)
              │                ▼
              └──────────▶ opening ──door opened──▶ door_open ──door closed──▶ completed
                               │                        │                       or released
                               └── offline / refused / timed out / jammed / not opened ──▶ released

What "completed" means depends on the purpose: a pickup's loan began when the item left the
compartment (the door may still be open), and the session completes when the door closes; a
return completes when the door closes with the item inside. Only the methods below set
``state``; the rules that decide when to call them live in :mod:`booking.lending.door_session`.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.lending.errors import WrongLendingState


class DoorPurpose(enum.StrEnum):
    PICKUP = "pickup"
    RETURN = "return"


class DoorSessionState(enum.StrEnum):
    RESERVED = "reserved"
    WAITING = "waiting"
    OPENING = "opening"
    DOOR_OPEN = "door_open"
    COMPLETED = "completed"
    RELEASED = "released"

    @property
    def is_final(self) -> bool:
        return self in (DoorSessionState.COMPLETED, DoorSessionState.RELEASED)


LIVE_DOOR_STATES = (
    DoorSessionState.RESERVED,
    DoorSessionState.WAITING,
    DoorSessionState.OPENING,
    DoorSessionState.DOOR_OPEN,
)
# The states in which the compartment's door may be unlocked or open for the session.
AT_THE_DOOR_STATES = (DoorSessionState.OPENING, DoorSessionState.DOOR_OPEN)


class ReleaseReason(enum.StrEnum):
    """Why a door session ended without its goal."""

    DEVICE_OFFLINE = "device_offline"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    JAMMED = "jammed"
    DOOR_NOT_OPENED = "door_not_opened"
    ITEM_LEFT_INSIDE = "item_left_inside"  # pickup: door closed with the item still there
    NOTHING_RETURNED = "nothing_returned"  # return: door closed with the compartment empty
    COMPARTMENT_OCCUPIED = "compartment_occupied"
    # The compartment did not close and relock from its last cycle while the session waited.
    COMPARTMENT_NOT_FREE = "compartment_not_free"
    HOLD_EXPIRED = "hold_expired"
    CANCELLED = "cancelled"


def _live_states_sql() -> str:
    return "state IN ({})".format(", ".join(f"'{s.value}'" for s in LIVE_DOOR_STATES))


class DoorSession(Base):
    """One door cycle of a locker compartment for a resident: a pickup or a return."""

    __tablename__ = "door_sessions"
    __table_args__ = (
        # One live pickup and one live return per item, by construction. Both at once is the
        # tool taken out and handed straight back: the return waits for the pickup's door.
        Index(
            "ux_door_sessions_live_item",
            "item_id",
            "purpose",
            unique=True,
            sqlite_where=text(_live_states_sql()),
            postgresql_where=text(_live_states_sql()),
        ),
        Index("ix_door_sessions_compartment", "device_id", "compartment", "state"),
        Index("ix_door_sessions_resident", "resident_id", "state"),
        Index("ix_door_sessions_state", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    purpose: Mapped[DoorPurpose] = mapped_column(str_enum(DoorPurpose))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    # A return's loan from the start; a pickup's once the item left the compartment.
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    state: Mapped[DoorSessionState] = mapped_column(str_enum(DoorSessionState))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Reserved: the hold. Waiting: how long the compartment may take to become free.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[str] = mapped_column(String(40))
    compartment: Mapped[int]
    # The open command (devices' device_commands.id); no foreign key, as booking's tables
    # do not depend on the device side's.
    command_id: Mapped[str | None] = mapped_column(String(36), index=True)
    opening_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the locker confirmed the compartment unlocked (the open command's `done`); the
    # door-not-opened clock runs from here.
    unlocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    door_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the compartment's item sensor last said while the door was open.
    item_inside: Mapped[bool | None]
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[ReleaseReason | None] = mapped_column(str_enum(ReleaseReason))
    # A pickup staff started for the resident (at the counter, on the phone): its loan, once
    # the locker confirms the tool gone, names them as who lent it.
    requested_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))

    # --- making one -----------------------------------------------------------------------

    @classmethod
    def for_pickup(
        cls, *, site_id: int, item_id: int, resident_id: int, device_id: str, compartment: int,
        now: datetime, hold: timedelta, staff_id: int | None = None,
    ) -> DoorSession:  # fmt: skip
        """A pickup of an item held for ``hold`` until its compartment is asked to open
        (``staff_id``: the staff member who started it for the resident)."""
        return cls(
            site_id=site_id, purpose=DoorPurpose.PICKUP, item_id=item_id,
            resident_id=resident_id, state=DoorSessionState.RESERVED, created_at=now,
            expires_at=now + hold, device_id=device_id, compartment=compartment,
            item_inside=True, requested_by_staff_id=staff_id,
        )  # fmt: skip

    @classmethod
    def for_return(
        cls, *, site_id: int, item_id: int, resident_id: int, loan_id: int, device_id: str,
        compartment: int, now: datetime,
    ) -> DoorSession:  # fmt: skip
        """A return of a loaned item to its own compartment; it is asked to open (or to wait
        for the compartment) in the same transaction, so it is reserved only for a moment."""
        return cls(
            site_id=site_id, purpose=DoorPurpose.RETURN, item_id=item_id,
            resident_id=resident_id, loan_id=loan_id, state=DoorSessionState.RESERVED,
            created_at=now, device_id=device_id, compartment=compartment, item_inside=False,
        )  # fmt: skip

    # --- reading --------------------------------------------------------------------------

    @property
    def is_pickup(self) -> bool:
        return self.purpose is DoorPurpose.PICKUP

    @property
    def is_live(self) -> bool:
        return not self.state.is_final

    @property
    def goal_reached(self) -> bool:
        """A pickup's item is out (its loan exists); a return's item is inside."""
        if self.is_pickup:
            return self.loan_id is not None and not self.item_inside
        return bool(self.item_inside)

    def door_timed_out(self, now: datetime, limit: timedelta) -> bool:
        """Unlocked, and nobody opened the door for ``limit``."""
        return (
            self.state is DoorSessionState.OPENING
            and self.door_opened_at is None
            and self.unlocked_at is not None
            and now - self.unlocked_at > limit
        )

    def waited_too_long(self, now: datetime) -> bool:
        """Reserved past its hold, or waiting past the time a compartment takes to close."""
        return (
            self.state in (DoorSessionState.RESERVED, DoorSessionState.WAITING)
            and self.expires_at is not None
            and self.expires_at <= now
        )

    # --- its steps ------------------------------------------------------------------------

    def _require(self, *states: DoorSessionState, step: str) -> None:
        if self.state not in states:
            raise WrongLendingState(f"cannot {step} a door session that is {self.state.value}",
                                 state=self.state.value)  # fmt: skip

    def wait_for_compartment(self, now: datetime, patience: timedelta) -> None:
        """The compartment is still closing from its last cycle: wait for it (a while)."""
        self._require(DoorSessionState.RESERVED, step="wait")
        self.state = DoorSessionState.WAITING
        self.expires_at = now + patience

    def open_requested(self, command_id: str, now: datetime) -> None:
        self._require(DoorSessionState.RESERVED, DoorSessionState.WAITING, step="open")
        self.state = DoorSessionState.OPENING
        self.command_id = command_id
        self.opening_at = now

    def unlocked(self, at: datetime) -> bool:
        """The locker answered ``done``; False when already known (or too late to matter)."""
        if self.state is not DoorSessionState.OPENING or self.unlocked_at is not None:
            return False
        self.unlocked_at = at
        return True

    def door_opened(self, now: datetime) -> bool:
        """The door opened with the session's command; False when the news comes too late
        to move it (it was released meanwhile: :meth:`stamp_late_door`)."""
        if self.state is not DoorSessionState.OPENING:
            return False
        self.state = DoorSessionState.DOOR_OPEN
        self._stamp_door(now)
        return True

    def stamp_late_door(self, now: datetime) -> None:
        """A released session's door did open after all (its event arrived late): keep when,
        so a late "item removed" can be traced to the resident who opened it."""
        self._require(DoorSessionState.RELEASED, step="stamp a late door on")
        self._stamp_door(now)

    def _stamp_door(self, now: datetime) -> None:
        self.door_opened_at = now
        if self.unlocked_at is None:
            # The event overtook the reply: the door being open proves the unlock.
            self.unlocked_at = now

    def item_sensed(self, inside: bool) -> None:
        """The item sensor while the door is open."""
        self._require(DoorSessionState.DOOR_OPEN, step="sense an item in")
        self.item_inside = inside

    def loan_began(self, loan_id: int) -> None:
        """A pickup's item left the compartment and became this loan (the door is open; a
        tool put back and taken again in one cycle makes a new loan)."""
        self._require(DoorSessionState.DOOR_OPEN, step="lend from")
        if not self.is_pickup:
            raise WrongLendingState("a return makes no loan", state=self.state.value)
        self.loan_id = loan_id

    def complete(self, now: datetime) -> None:
        """The door closed with the goal reached."""
        self._require(DoorSessionState.DOOR_OPEN, step="complete")
        if not self.goal_reached:
            raise WrongLendingState("the door session has not reached its goal",
                                 state=self.state.value)  # fmt: skip
        self.state = DoorSessionState.COMPLETED
        self.finished_at = now

    def release(self, reason: ReleaseReason, now: datetime) -> bool:
        """End without the goal; False if the session had already ended."""
        if self.state.is_final:
            return False
        self.state = DoorSessionState.RELEASED
        self.release_reason = reason
        self.finished_at = now
        return True

    def confirmed_late(self, loan_id: int) -> None:
        """A released pickup's item left after all: the loan the late event made."""
        self._require(DoorSessionState.RELEASED, step="confirm late")
        self.loan_id = loan_id
