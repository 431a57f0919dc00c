"""Holding an item for a reservation: who has the first claim on a tool type's next free
item, and the hold itself (a reserved pickup the resident opens at the kiosk, as staff's
holds are).

The claims, in order: window reservations whose window has begun (earliest start first),
then the queue (first come, first served). A free locker item of the type goes to the first
claim: when it comes back (:func:`hand_over`, from the returns themselves) or on the
lending jobs' next minute (:func:`serve`, for every other way an item becomes free). Below
the door session and the lending rules, which both call it, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, Select, bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core import row_locks
from booking.lending.history import record
from booking.lending.models.door_sessions import LIVE_DOOR_STATES, DoorPurpose, DoorSession
from booking.lending.models.events import LendingAction
from booking.lending.models.reservations import (
    ReservationKind,
    ReservationStatus,
    ToolReservation,
)
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.lending.policy import policy_for

SYSTEM_ACTOR = "system:reservations"
READY = {
    ReservationKind.WINDOW: NotificationKind.TOOL_RESERVATION_READY,
    ReservationKind.QUEUE: NotificationKind.TOOL_QUEUE_READY,
}


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Waiting reservations an item may be held for now: the queue, and windows under way."""
    return (ToolReservation.status == ReservationStatus.WAITING) & or_(
        ToolReservation.kind == ReservationKind.QUEUE,
        (ToolReservation.window_starts_at <= now) & (ToolReservation.window_ends_at > now),
    )


def claims(session: Session, *, tool_type_id: int, now: datetime) -> list[ToolReservation]:
    """The tool type's waiting claims in the order they are served."""
    return list(
        session.scalars(
            select(ToolReservation)
            .where(ToolReservation.tool_type_id == tool_type_id, _claimable(now))
            .order_by(
                # Windows first (a promise made for that time), then the queue's arrivals.
                (ToolReservation.kind == ReservationKind.QUEUE),
                ToolReservation.window_starts_at,
                ToolReservation.created_at,
                ToolReservation.id,
            )
        )
    )


def someone_waiting(
    session: Session, *, tool_type_id: int, now: datetime, except_resident: int | None = None
) -> bool:
    """Whether another resident waits for the tool type now (a renewal is refused then)."""
    query = select(ToolReservation.id).where(
        ToolReservation.tool_type_id == tool_type_id,
        _claimable(now),
    )
    if except_resident is not None:
        query = query.where(ToolReservation.resident_id != except_resident)
    return session.scalar(query.limit(1)) is not None


def promised(
    session: Session, *, tool_type_id: int, resident_id: int, now: datetime, loan_days: int
) -> int:
    """How many of the type's free items others' reservations need: the claims waiting now,
    and windows starting before a loan taken now would be back. A walk-up pickup gets an
    item only when more than these are free."""
    rows = session.execute(
        _promising().where(ToolReservation.tool_type_id == tool_type_id),
        {"resident_id": resident_id, "now": now},
    )
    return _promised_of(rows, now, {tool_type_id: loan_days})[tool_type_id]


def promised_by_type(
    session: Session, *, site_id: int, loan_days: Mapping[int, int], resident_id: int,
    now: datetime,
) -> dict[int, int]:  # fmt: skip
    """:func:`promised` for each tool type of ``loan_days`` (its id → its loan days) of the
    site, in one read: a catalogue asks it of every type it shows, and a read a type made
    its statements grow with the types a centre lends."""
    rows = session.execute(
        _promising().where(ToolReservation.site_id == site_id),
        {"resident_id": resident_id, "now": now},
    )
    return _promised_of(rows, now, loan_days)


def _promising() -> Select[int, ReservationKind, datetime | None]:
    """Others' waiting claims that may count against a loan taken now: the queue, and windows
    not over. Whether a window starts before that loan is back depends on the tool type's
    loan days: :func:`_promised_of` decides."""
    return select(
        ToolReservation.tool_type_id, ToolReservation.kind, ToolReservation.window_starts_at
    ).where(
        ToolReservation.resident_id != bindparam("resident_id"),
        ToolReservation.status == ReservationStatus.WAITING,
        or_(
            ToolReservation.kind == ReservationKind.QUEUE,
            ToolReservation.window_ends_at > bindparam("now"),
        ),
    )


def _promised_of(
    rows: Iterable[Row[int, ReservationKind, datetime | None]], now: datetime,
    loan_days: Mapping[int, int],
) -> dict[int, int]:  # fmt: skip
    counts = dict.fromkeys(loan_days, 0)
    for tool_type_id, kind, starts_at in rows:
        if tool_type_id not in counts:
            continue
        back_by = now + timedelta(days=loan_days[tool_type_id])
        if kind is ReservationKind.QUEUE or (starts_at is not None and starts_at < back_by):
            counts[tool_type_id] += 1
    return counts


def free_items_query(tool_type_id: int) -> Select[Item]:
    """Locker items of the type free to hold: available, with no pickup under way."""
    live_pickup = exists().where(
        DoorSession.item_id == Item.id,
        DoorSession.purpose == DoorPurpose.PICKUP,
        DoorSession.state.in_(LIVE_DOOR_STATES),
    )
    return (
        select(Item)
        .where(
            Item.tool_type_id == tool_type_id,
            Item.status == ItemStatus.AVAILABLE,
            Item.locker_device_id.is_not(None),
            ~live_pickup,
        )
        .order_by(Item.locker_device_id, Item.compartment)
    )


def hold_for(
    session: Session, reservation: ToolReservation, item: Item, now: datetime
) -> DoorSession | None:
    """Hold ``item`` for the reservation for the policy's hold time and tell the resident;
    None when the item turned out not to be free (a pickup of it is under way)."""
    assert item.locker_device_id is not None and item.compartment is not None
    policy = policy_for(session, item.site_id)
    door = DoorSession.for_pickup(
        site_id=item.site_id, item_id=item.id, resident_id=reservation.resident_id,
        device_id=item.locker_device_id, compartment=item.compartment, now=now,
        hold=policy.hold, staff_id=reservation.requested_by_staff_id,
    )  # fmt: skip
    try:
        # In a savepoint: a refusal leaves the caller's transaction (a return) usable.
        with session.begin_nested():
            item.reserve()
            session.add(door)
    except IntegrityError as error:
        if not row_locks.violates(error, "ux_door_sessions_live_item", "door_sessions.item_id"):
            raise
        return None
    reservation.hold(door.id, now)
    record(
        session, item=item, action=LendingAction.RESERVED, actor=SYSTEM_ACTOR, now=now,
        door_session=door,
        detail={"reservation_id": reservation.id, "reservation": reservation.kind.value},
    )  # fmt: skip
    tool_type = session.get_one(ToolType, item.tool_type_id)
    assert door.expires_at is not None
    notifications.notify(
        session, resident_id=reservation.resident_id, site_id=reservation.site_id,
        kind=READY[reservation.kind], now=now,
        detail=f"{tool_type.name_zh}\n{tool_type.name_en}\n{door.expires_at.isoformat()}",
    )  # fmt: skip
    return door


def hand_over(session: Session, item: Item, now: datetime) -> ToolReservation | None:
    """An item just came back: held for the first claim on its type, if there is one."""
    if item.status is not ItemStatus.AVAILABLE or item.locker_device_id is None:
        return None
    for reservation in claims(session, tool_type_id=item.tool_type_id, now=now)[:1]:
        if hold_for(session, reservation, item, now) is not None:
            return reservation
    return None


def serve(session: Session, *, tool_type_id: int, now: datetime) -> int:
    """Hold free items of the type for its claims, first claim first; how many were held."""
    held = 0
    for reservation in claims(session, tool_type_id=tool_type_id, now=now):
        item = session.scalar(
            free_items_query(tool_type_id)
            .limit(1)
            .with_for_update(skip_locked=True, key_share=True)
        )
        if item is None:
            break
        if hold_for(session, reservation, item, now) is not None:
            held += 1
    return held


def tool_types_with_claims(session: Session, *, now: datetime) -> list[int]:
    return list(
        session.scalars(select(ToolReservation.tool_type_id).where(_claimable(now)).distinct())
    )


def is_reservation_hold(session: Session, door_session_id: int) -> bool:
    """Whether the pickup holds an item for a reservation or queue place."""
    return (
        session.scalar(
            select(ToolReservation.id).where(ToolReservation.door_session_id == door_session_id)
        )
        is not None
    )
