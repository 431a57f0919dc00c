"""Reservations of a tool type: for a day and time window ahead, or a place in the queue for
the next item returned.

Both wait until an item can be held for the resident, then hold it as a pickup the resident
opens at the kiosk (a :class:`~booking.lending.models.door_sessions.DoorSession` reserved for
the policy's hold time), and end collected, cancelled, as a no-show, or lapsed::

    waiting ──item held──▶ held ──tool taken──▶ collected
       │                    │ └──hold ran out──▶ no_show
       │                    └──hold given up otherwise (door not opened …) ──▶ waiting
       ├──resident or staff cancel ──▶ cancelled   (held too: the hold is released)
       └──window over, nothing free ──▶ lapsed

Only the methods below set ``status``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.lending.errors import WrongLendingState


class ReservationKind(enum.StrEnum):
    WINDOW = "window"  # a day and time window ahead
    QUEUE = "queue"  # the next item returned, first come first served


class ReservationStatus(enum.StrEnum):
    WAITING = "waiting"
    HELD = "held"
    COLLECTED = "collected"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"
    LAPSED = "lapsed"

    @property
    def is_live(self) -> bool:
        return self in (ReservationStatus.WAITING, ReservationStatus.HELD)


LIVE_RESERVATION_STATUSES = (ReservationStatus.WAITING, ReservationStatus.HELD)


class ToolReservation(Base):
    """A resident's claim on the next free item of a tool type (see the module)."""

    __tablename__ = "tool_reservations"
    __table_args__ = (
        Index("ix_tool_reservations_type_status", "tool_type_id", "status", "created_at"),
        Index("ix_tool_reservations_resident", "resident_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    tool_type_id: Mapped[int] = mapped_column(ForeignKey("tool_types.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    kind: Mapped[ReservationKind] = mapped_column(str_enum(ReservationKind))
    status: Mapped[ReservationStatus] = mapped_column(str_enum(ReservationStatus))
    # A window reservation's window (none for the queue): the item is held from its start.
    window_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The hold: the pickup the resident opens at the kiosk, while held (and after, to tell).
    door_session_id: Mapped[int | None] = mapped_column(ForeignKey("door_sessions.id"))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Staff who made it for the resident (on the phone); the hold and its loan name them.
    requested_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))

    @classmethod
    def for_window(
        cls, *, site_id: int, tool_type_id: int, resident_id: int, starts_at: datetime,
        ends_at: datetime, now: datetime, staff_id: int | None = None,
    ) -> ToolReservation:  # fmt: skip
        return cls(
            site_id=site_id, tool_type_id=tool_type_id, resident_id=resident_id,
            kind=ReservationKind.WINDOW, status=ReservationStatus.WAITING,
            window_starts_at=starts_at, window_ends_at=ends_at, created_at=now,
            requested_by_staff_id=staff_id,
        )  # fmt: skip

    @classmethod
    def in_queue(
        cls, *, site_id: int, tool_type_id: int, resident_id: int, now: datetime,
        staff_id: int | None = None,
    ) -> ToolReservation:  # fmt: skip
        return cls(
            site_id=site_id, tool_type_id=tool_type_id, resident_id=resident_id,
            kind=ReservationKind.QUEUE, status=ReservationStatus.WAITING, created_at=now,
            requested_by_staff_id=staff_id,
        )  # fmt: skip

    @property
    def is_live(self) -> bool:
        return self.status.is_live

    def _require(self, *states: ReservationStatus, step: str) -> None:
        if self.status not in states:
            raise WrongLendingState(
                f"cannot {step} a reservation that is {self.status.value}",
                state=self.status.value,
            )

    def hold(self, door_session_id: int, now: datetime) -> None:
        """An item is held for the resident by the pickup ``door_session_id``."""
        self._require(ReservationStatus.WAITING, step="hold")
        self.status = ReservationStatus.HELD
        self.door_session_id = door_session_id
        self.held_at = now

    def collected(self, loan_id: int, now: datetime) -> None:
        self._require(ReservationStatus.HELD, step="collect")
        self.status = ReservationStatus.COLLECTED
        self.loan_id = loan_id
        self.ended_at = now

    def no_show(self, now: datetime) -> None:
        self._require(ReservationStatus.HELD, step="give up")
        self.status = ReservationStatus.NO_SHOW
        self.ended_at = now

    def hold_lost(self) -> None:
        """The hold ended for another reason than the resident's absence (the door was not
        opened in time, staff sent the item to maintenance): wait again, in the same place."""
        self._require(ReservationStatus.HELD, step="wait again")
        self.status = ReservationStatus.WAITING
        self.door_session_id = None
        self.held_at = None

    def cancel(self, now: datetime) -> None:
        self._require(*LIVE_RESERVATION_STATUSES, step="cancel")
        self.status = ReservationStatus.CANCELLED
        self.ended_at = now

    def lapse(self, now: datetime) -> None:
        """The window ended and no item could be held in it."""
        self._require(ReservationStatus.WAITING, step="lapse")
        self.status = ReservationStatus.LAPSED
        self.ended_at = now
