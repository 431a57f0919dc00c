"""Reserving a tool type ahead and queueing for one: the resident's (or staff's) use cases.

A window reservation is for a day and time window ahead: taken only while an item of the
type is left for that window (items in lockers, less the loans still out then and the other
windows needing one), and held from the window's start (``booking.lending.jobs``). The queue
is for when none is free now: the next item returned is held for the first in it
(:mod:`booking.lending.holds`). Either can be cancelled until the tool is taken. These are
plain services of a session and values, for the kiosk, the console, the API and the phone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.models.sites import Site
from booking.lending import catalogue as lending_catalogue
from booking.lending import door_session, holds, reservation_windows
from booking.lending import eligibility as lending_eligibility
from booking.lending.errors import (
    AlreadyReserved,
    ItemFreeNow,
    ReservationNotFound,
    ToolFullyReserved,
    WrongLendingState,
)
from booking.lending.history import resident_actor, staff_actor
from booking.lending.models.door_sessions import (
    LIVE_DOOR_STATES,
    DoorPurpose,
    DoorSession,
    DoorSessionState,
    ReleaseReason,
)
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan
from booking.lending.models.reservations import (
    LIVE_RESERVATION_STATUSES,
    ReservationKind,
    ReservationStatus,
    ToolReservation,
)
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.lending.policy import policy_for
from booking.people.models.staff import StaffAccount

# Items in these states may be lent again (the rest wait for staff).
IN_SERVICE = (ItemStatus.AVAILABLE, ItemStatus.RESERVED, ItemStatus.ON_LOAN, ItemStatus.OVERDUE)


@dataclass(frozen=True)
class ReservationView:
    """A reservation as a resident or staff member reads it."""

    reservation: ToolReservation
    tool_type: ToolType
    # In the queue: 1 for the first waiting; None for a window or a place no longer waiting.
    position: int | None
    # Held: until when the tool is kept.
    held_until: datetime | None


def _ready(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int, now: datetime
) -> ToolType:
    """The tool type, if the resident may reserve it: lent, and the resident may borrow."""
    tool_type = lending_catalogue.get_tool_type(session, site_id=site_id, tool_type_id=tool_type_id)
    lending_catalogue.ensure_not_retired(tool_type)
    lending_eligibility.ensure_can_borrow(
        session, site_id=site_id, resident_id=resident_id, now=now,
        policy=policy_for(session, site_id),
    )  # fmt: skip
    live = session.scalar(
        select(ToolReservation.id).where(
            ToolReservation.resident_id == resident_id,
            ToolReservation.tool_type_id == tool_type_id,
            ToolReservation.status.in_(LIVE_RESERVATION_STATUSES),
        )
    )
    if live is not None:
        raise AlreadyReserved("already reserved or queued for this tool", reservation_id=live)
    return tool_type


def items_left(session: Session, *, tool_type: ToolType, starts_at: datetime, now: datetime) -> int:
    """How many items of the type are left for a window: those in lockers and in service,
    less the loans (and holds, which become loans) still out at its start, less the other
    windows whose item would still be out then (a loan of the tool type's days)."""
    in_lockers = (
        session.scalar(
            select(func.count(Item.id)).where(
                Item.tool_type_id == tool_type.id,
                Item.locker_device_id.is_not(None),
                Item.status.in_(IN_SERVICE),
            )
        )
        or 0
    )
    out = (
        session.scalar(
            select(func.count(Loan.id)).where(
                Loan.tool_type_id == tool_type.id,
                Loan.status.in_(OPEN_LOAN_STATUSES),
                Loan.due_at > starts_at,
            )
        )
        or 0
    )
    loan = timedelta(days=tool_type.loan_days)
    if now + loan > starts_at:
        out += (
            session.scalar(
                select(func.count(DoorSession.id))
                .join(Item, Item.id == DoorSession.item_id)
                .where(
                    Item.tool_type_id == tool_type.id,
                    DoorSession.purpose == DoorPurpose.PICKUP,
                    DoorSession.state.in_(LIVE_DOOR_STATES),
                    DoorSession.loan_id.is_(None),
                )
            )
            or 0
        )
    windows = (
        session.scalar(
            select(func.count(ToolReservation.id)).where(
                ToolReservation.tool_type_id == tool_type.id,
                ToolReservation.kind == ReservationKind.WINDOW,
                # A held one's item is its pickup and a collected one's its loan, both above.
                ToolReservation.status == ReservationStatus.WAITING,
                # Each window's item is out for a loan period from its start: two windows
                # closer than that need two items.
                ToolReservation.window_starts_at > starts_at - loan,
                ToolReservation.window_starts_at < starts_at + loan,
            )
        )
        or 0
    )
    return in_lockers - out - windows


def reserve(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int,
    starts_at: datetime, ends_at: datetime, now: datetime, staff: StaffAccount | None = None,
) -> ToolReservation:  # fmt: skip
    """Reserve an item of the type for a window ahead (``staff``: for the resident). Refused
    when none is left for the window (:class:`ToolFullyReserved`: the queue is the way)."""
    reservation_windows.check_window(session.get_one(Site, site_id), starts_at, ends_at, now)
    tool_type = _ready(session, site_id=site_id, resident_id=resident_id,
                       tool_type_id=tool_type_id, now=now)  # fmt: skip
    # The tool type locked: two residents reserving its last item are counted in turn.
    session.get(ToolType, tool_type.id, with_for_update=True)
    if items_left(session, tool_type=tool_type, starts_at=starts_at, now=now) <= 0:
        raise ToolFullyReserved("no item is left for that window", tool_type_id=tool_type_id)
    reservation = ToolReservation.for_window(
        site_id=site_id, tool_type_id=tool_type_id, resident_id=resident_id,
        starts_at=starts_at, ends_at=ends_at, now=now,
        staff_id=staff.id if staff is not None else None,
    )  # fmt: skip
    session.add(reservation)
    session.flush()
    _audit(session, staff, "lending.reserved_for_resident", reservation, now)
    return reservation


def join_queue(
    session: Session, *, site_id: int, resident_id: int, tool_type_id: int, now: datetime,
    staff: StaffAccount | None = None,
) -> ToolReservation:  # fmt: skip
    """Wait for the next item of the type returned. Only when none is free now (otherwise it
    is borrowed at the kiosk: :class:`ItemFreeNow`)."""
    tool_type = _ready(session, site_id=site_id, resident_id=resident_id,
                       tool_type_id=tool_type_id, now=now)  # fmt: skip
    session.get(ToolType, tool_type.id, with_for_update=True)
    free = (
        session.scalar(
            select(func.count()).select_from(holds.free_items_query(tool_type_id).subquery())
        )
        or 0
    )
    others = holds.promised(session, tool_type_id=tool_type_id, resident_id=resident_id,
                            now=now, loan_days=tool_type.loan_days)  # fmt: skip
    if free > others:
        raise ItemFreeNow("an item is free now: borrow it at the kiosk", tool_type_id=tool_type_id)
    reservation = ToolReservation.in_queue(
        site_id=site_id, tool_type_id=tool_type_id, resident_id=resident_id, now=now,
        staff_id=staff.id if staff is not None else None,
    )  # fmt: skip
    session.add(reservation)
    session.flush()
    _audit(session, staff, "lending.queued_for_resident", reservation, now)
    return reservation


def cancel_reservation(
    session: Session, *, site_id: int, reservation_id: int, now: datetime,
    resident_id: int | None = None, staff: StaffAccount | None = None, actor: str | None = None,
) -> ToolReservation:  # fmt: skip
    """Call off a reservation or queue place (the resident's own, or any of the site's for
    staff). A held tool is released and goes to the next claim; one whose compartment is
    already opening is the locker's to finish (:class:`WrongLendingState`)."""
    reservation = session.get(ToolReservation, reservation_id, with_for_update=True)
    if (
        reservation is None
        or reservation.site_id != site_id
        or (resident_id is not None and reservation.resident_id != resident_id)
    ):
        raise ReservationNotFound("no such reservation", reservation_id=reservation_id)
    if not reservation.is_live:
        raise WrongLendingState("the reservation has ended", state=reservation.status.value)
    if actor is None:
        actor = staff_actor(staff) if staff is not None else resident_actor(reservation.resident_id)
    door = (
        session.get(DoorSession, reservation.door_session_id, with_for_update=True)
        if reservation.door_session_id is not None
        else None
    )
    if door is not None and door.state not in (DoorSessionState.RESERVED, *_ENDED):
        raise WrongLendingState("the compartment is already open", state=door.state.value)
    reservation.cancel(now)
    if door is not None and door.state is DoorSessionState.RESERVED:
        door_session.release(session, door, ReleaseReason.CANCELLED, now, actor=actor)
        holds.hand_over(session, session.get_one(Item, door.item_id), now)
    _audit(session, staff, "lending.reservation_cancelled_for_resident", reservation, now)
    return reservation


_ENDED = (DoorSessionState.COMPLETED, DoorSessionState.RELEASED)


def _audit(
    session: Session, staff: StaffAccount | None, action: str, reservation: ToolReservation,
    now: datetime,
) -> None:  # fmt: skip
    if staff is None:
        return
    audit.record_staff(
        session, staff, action=action, now=now, subject=f"tool_reservation:{reservation.id}",
        detail={"resident_id": reservation.resident_id, "tool_type_id": reservation.tool_type_id},
    )  # fmt: skip


def view_of(session: Session, reservation: ToolReservation) -> ReservationView:
    """One reservation as it is read: its tool, its place in the queue, its hold's end."""
    position = None
    if (
        reservation.kind is ReservationKind.QUEUE
        and reservation.status is ReservationStatus.WAITING
    ):
        position = 1 + (
            session.scalar(
                select(func.count(ToolReservation.id)).where(
                    ToolReservation.tool_type_id == reservation.tool_type_id,
                    ToolReservation.kind == ReservationKind.QUEUE,
                    ToolReservation.status == ReservationStatus.WAITING,
                    or_(
                        ToolReservation.created_at < reservation.created_at,
                        (ToolReservation.created_at == reservation.created_at)
                        & (ToolReservation.id < reservation.id),
                    ),
                )
            )
            or 0
        )
    held_until = None
    if reservation.status is ReservationStatus.HELD and reservation.door_session_id is not None:
        held_until = session.get_one(DoorSession, reservation.door_session_id).expires_at
    tool_type = session.get_one(ToolType, reservation.tool_type_id)
    return ReservationView(reservation, tool_type, position, held_until)


def my_reservations(session: Session, *, site_id: int, resident_id: int) -> list[ReservationView]:
    """The resident's live reservations and queue places: held ones first, then by time."""
    rows = session.scalars(
        select(ToolReservation)
        .where(
            ToolReservation.site_id == site_id,
            ToolReservation.resident_id == resident_id,
            ToolReservation.status.in_(LIVE_RESERVATION_STATUSES),
        )
        .order_by(
            ToolReservation.status != ReservationStatus.HELD,
            ToolReservation.created_at,
            ToolReservation.id,
        )  # fmt: skip
    )
    return [view_of(session, row) for row in rows]


def reservations_by_type(
    session: Session, *, site_id: int, tool_types: Iterable[ToolType]
) -> dict[int, list[ReservationView]]:
    """The site's live reservations and queues, for staff, by tool type: windows by start,
    then the queue in its order. ``tool_types``: every type of the site, as the caller has
    read them. Two reads however many tools and reservations there are (each reservation's
    queue place and hold were a read of their own)."""
    rows = session.scalars(
        select(ToolReservation)
        .where(
            ToolReservation.site_id == site_id,
            ToolReservation.status.in_(LIVE_RESERVATION_STATUSES),
        )
        .order_by(
            ToolReservation.tool_type_id,
            ToolReservation.kind == ReservationKind.QUEUE,
            ToolReservation.window_starts_at,
            ToolReservation.created_at,
            ToolReservation.id,
        )
    ).all()
    held = [row.door_session_id for row in rows if row.status is ReservationStatus.HELD]
    doors = {door.id: door.expires_at for door in session.scalars(
        select(DoorSession).where(DoorSession.id.in_([d for d in held if d is not None]))
    )}  # fmt: skip
    types = {tool_type.id: tool_type for tool_type in tool_types}
    # Every waiting queue place is live, so all are here: a place is counted among them in
    # the order view_of counts it (created, then id).
    waiting = sorted(
        (row for row in rows
         if row.kind is ReservationKind.QUEUE and row.status is ReservationStatus.WAITING),
        key=lambda row: (row.created_at, row.id),
    )  # fmt: skip
    positions: dict[int, int] = {}
    seen: dict[int, int] = {}
    for row in waiting:
        seen[row.tool_type_id] = positions[row.id] = seen.get(row.tool_type_id, 0) + 1
    found: dict[int, list[ReservationView]] = {}
    for row in rows:
        held_until = doors.get(row.door_session_id) if row.door_session_id is not None else None
        view = ReservationView(row, types[row.tool_type_id], positions.get(row.id),
                               held_until if row.status is ReservationStatus.HELD else None)  # fmt: skip
        found.setdefault(row.tool_type_id, []).append(view)
    return found


def waiting_counts(session: Session, *, site_id: int) -> dict[int, int]:
    """How many residents queue for each tool type of the site (types nobody queues for absent)."""
    rows = session.execute(
        select(ToolReservation.tool_type_id, func.count(ToolReservation.id))
        .where(
            ToolReservation.site_id == site_id,
            ToolReservation.kind == ReservationKind.QUEUE,
            ToolReservation.status == ReservationStatus.WAITING,
        )
        .group_by(ToolReservation.tool_type_id)
    )
    return {tool_type_id: int(count) for tool_type_id, count in rows}


def free_now(
    session: Session, *, site_id: int, tool_types: Iterable[ToolType], usable: Mapping[int, int],
    resident_id: int | None, now: datetime,
) -> dict[int, int]:  # fmt: skip
    """For each of ``tool_types`` (by id), of the ``usable`` items of the type a resident could
    take from a locker now, how many are left once others' reservations and queue places have
    theirs (``resident_id``: whose own claims do not count against them; None: everyone's
    count). One read for them all."""
    loan_days = {tool_type.id: tool_type.loan_days for tool_type in tool_types}
    needed = holds.promised_by_type(session, site_id=site_id, loan_days=loan_days,
                                    resident_id=resident_id or 0, now=now)  # fmt: skip
    return {type_id: max(0, usable.get(type_id, 0) - needed[type_id]) for type_id in loan_days}


def locker_tool_types(session: Session, *, site_id: int) -> set[int]:
    """The tool types with items kept in lockers and in service: those reserved ahead."""
    return set(
        session.scalars(
            select(Item.tool_type_id)
            .where(
                Item.site_id == site_id,
                Item.locker_device_id.is_not(None),
                Item.status.in_(IN_SERVICE),
            )
            .distinct()
        )
    )
