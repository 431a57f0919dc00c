"""Finding locker door sessions: by id, at a compartment, of a command, of a resident or an
item. Read-only, so the rules (:mod:`booking.lending.door_session`), the lending rules and the
device side can all ask without importing each other."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from booking.lending.errors import DoorSessionNotFound
from booking.lending.models.door_sessions import (
    AT_THE_DOOR_STATES,
    LIVE_DOOR_STATES,
    DoorPurpose,
    DoorSession,
    DoorSessionState,
)
from booking.lending.models.reservations import ToolReservation

# The locker relocks an unopened door on its own clock; a door_opened sent just before that
# may still be on its way. Giving up only this much later keeps a real pickup on its normal
# path (a later one still becomes a loan, confirmed late).


def get(
    session: Session, *, door_session_id: int, site_id: int | None = None,
    resident_id: int | None = None,
) -> DoorSession:  # fmt: skip
    """The session, locked, if it is of the site and of the resident (when given)."""
    found = session.get(DoorSession, door_session_id, with_for_update=True)
    if (
        found is None
        or (site_id is not None and found.site_id != site_id)
        or (resident_id is not None and found.resident_id != resident_id)
    ):
        raise DoorSessionNotFound("no such pickup or return", door_session_id=door_session_id)
    return found


# Built once: every locker event asks it, and building the statement (SQLAlchemy's operator
# overloading and coercions) cost more than running it (docs/benchmarks.md).
_LIVE_AT = (
    select(DoorSession)
    .where(
        DoorSession.device_id == bindparam("device_id"),
        DoorSession.compartment == bindparam("n"),
        DoorSession.state.in_(LIVE_DOOR_STATES),
    )
    .order_by(DoorSession.state.in_(AT_THE_DOOR_STATES).desc(), DoorSession.id)
    .limit(1)
    .with_for_update()
)


def live_at(session: Session, device_id: str, n: int) -> DoorSession | None:
    """The live session of a compartment, locked (the one at the door first)."""
    return session.scalar(_LIVE_AT, {"device_id": device_id, "n": n})


def another_at_the_door(session: Session, door: DoorSession) -> bool:
    """Whether another session of the same compartment is unlocking or has its door open."""
    return (
        session.scalar(
            select(DoorSession.id).where(
                DoorSession.device_id == door.device_id,
                DoorSession.compartment == door.compartment,
                DoorSession.state.in_(AT_THE_DOOR_STATES),
                DoorSession.id != door.id,
            )
        )
        is not None
    )


def of_command(session: Session, command_id: str) -> DoorSession | None:
    """The session an open command was issued for, locked, whatever its state."""
    return session.scalar(
        select(DoorSession).where(DoorSession.command_id == command_id).with_for_update()
    )


def live_pickups(session: Session, *, site_id: int, resident_id: int) -> list[DoorSession]:
    """The resident's pickups not yet lent (one whose tool has left counts as its loan)."""
    return list(
        session.scalars(
            select(DoorSession)
            .where(
                DoorSession.site_id == site_id,
                DoorSession.resident_id == resident_id,
                DoorSession.purpose == DoorPurpose.PICKUP,
                DoorSession.state.in_(LIVE_DOOR_STATES),
                DoorSession.loan_id.is_(None),
            )
            .order_by(DoorSession.id)
        )
    )


def live_holds(
    session: Session, *, site_id: int, resident_id: int, now: datetime
) -> list[DoorSession]:
    """The tools held for the resident to open at the kiosk (by staff, or for a reservation or
    queue place), soonest ending first: their pickups still reserved (a kiosk's own pickup
    asks its compartment to open in the same
    transaction, so it is never seen reserved) whose hold has not run out, even if the job
    releasing it has not run yet."""
    return list(
        session.scalars(
            select(DoorSession)
            .where(
                DoorSession.site_id == site_id,
                DoorSession.resident_id == resident_id,
                DoorSession.purpose == DoorPurpose.PICKUP,
                DoorSession.state == DoorSessionState.RESERVED,
                DoorSession.requested_by_staff_id.is_not(None)
                | exists().where(ToolReservation.door_session_id == DoorSession.id),
                DoorSession.expires_at > now,
            )
            .order_by(DoorSession.expires_at, DoorSession.id)
        )
    )


def live_pickup_of(session: Session, item_id: int) -> DoorSession | None:
    return session.scalar(
        select(DoorSession).where(
            DoorSession.item_id == item_id,
            DoorSession.purpose == DoorPurpose.PICKUP,
            DoorSession.state.in_(LIVE_DOOR_STATES),
        )
    )
