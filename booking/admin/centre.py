"""What a centre's admins change: opening hours, spaces and seats, tool types, items, the
lending policy. Each function checks its input, changes one thing at the admin's own site
and audits what changed (old and new values) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.core import audit, row_locks
from booking.core.errors import Conflict, InvalidInput, NotFound, StillInUse
from booking.core.models.sites import Site
from booking.lending.models.loans import LendingPolicy
from booking.lending.models.tools import Item, ItemStatus, ToolType
from booking.people.models.staff import StaffAccount
from booking.spaces import waitlist
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking
from booking.spaces.models.series import BookingSeries
from booking.spaces.models.spaces import Seat, Space, SpaceKind

MAX_CAPACITY = 500
MAX_SEAT_NUMBER = 999
MAX_MAP_CELL = 50
MAX_LOAN_DAYS = 60
MAX_COMPARTMENT = 64  # as devices.commands.operations: the protocol's highest compartment number
# Statuses an admin may set by hand; the others follow loans and reservations.
SETTABLE_ITEM_STATUSES = (ItemStatus.AVAILABLE, ItemStatus.MAINTENANCE, ItemStatus.LOST)
_LENT_STATUSES = (ItemStatus.RESERVED, ItemStatus.ON_LOAN, ItemStatus.OVERDUE)

# Each lending policy field with its smallest and largest allowed value.
POLICY_LIMITS: dict[str, tuple[int, int]] = {
    "max_items_on_loan": (1, 20),
    "hold_minutes": (10, 7 * 24 * 60),
    "door_open_timeout_s": (15, 600),
    "overdue_strikes": (1, 10),
    "overdue_window_days": (1, 365),
    "suspension_days": (0, 365),
    "escalate_after_days": (0, 60),
}


def _jsonable(value: object) -> object:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, ItemStatus | SpaceKind):
        return value.value
    return value


def _apply(row: object, values: dict[str, Any]) -> dict[str, list[object]]:
    """Set ``values`` on ``row``; return what changed as ``{field: [old, new]}`` for the audit."""
    changed: dict[str, list[object]] = {}
    for name, new in values.items():
        old = getattr(row, name)
        if old != new:
            changed[name] = [_jsonable(old), _jsonable(new)]
            setattr(row, name, new)
    return changed


def _text(value: str, field: str, *, required: bool = True, max_length: int = 100) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{field} is required", field=field)
    if len(value) > max_length:
        raise InvalidInput(f"{field} is at most {max_length} characters", field=field)
    return value


def _whole(value: int, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{field} must be a whole number from {low} to {high}", field=field)
    return value


def _hours(opens_at: time | None, closes_at: time | None, *, optional: bool) -> None:
    if opens_at is None and closes_at is None and optional:
        return
    if opens_at is None or closes_at is None:
        raise InvalidInput("give both the opening and the closing time", field="opens_at")
    if opens_at >= closes_at:
        raise InvalidInput("the centre must open before it closes", field="closes_at")


def _audit(
    session: Session,
    staff: StaffAccount,
    action: str,
    subject: str,
    changed: dict[str, Any],
    now: datetime,
) -> None:
    if changed:
        audit.record_staff(session, staff, action=action, now=now, subject=subject, detail=changed)


# --- site and spaces ----------------------------------------------------------------------------


def update_site_hours(
    session: Session, staff: StaffAccount, *, opens_at: time, closes_at: time, now: datetime
) -> Site:
    """The centre's own opening hours (spaces without hours of their own follow them)."""
    _hours(opens_at, closes_at, optional=False)
    site = session.get_one(Site, staff.site_id)
    changed = _apply(site, {"opens_at": opens_at, "closes_at": closes_at})
    _audit(session, staff, "admin.site_hours_changed", f"site:{site.slug}", changed, now)
    return site


def _space(session: Session, staff: StaffAccount, space_id: int) -> Space:
    space = session.get(Space, space_id)
    if space is None or space.site_id != staff.site_id:
        raise NotFound("no such space", space_id=space_id)
    return space


def _tool_type(session: Session, staff: StaffAccount, tool_type_id: int) -> ToolType:
    tool_type = session.get(ToolType, tool_type_id)
    if tool_type is None or tool_type.site_id != staff.site_id:
        raise NotFound("no such tool type", tool_type_id=tool_type_id)
    return tool_type


def update_space(
    session: Session,
    staff: StaffAccount,
    space_id: int,
    *,
    name_zh: str,
    name_en: str,
    capacity: int,
    needs_approval: bool,
    opens_at: time | None,
    closes_at: time | None,
    now: datetime,
) -> Space:
    """Names, capacity, approval and hours of a space; no hours means the centre's."""
    space = _space(session, staff, space_id)
    _hours(opens_at, closes_at, optional=True)
    capacity = _whole(capacity, "capacity", 1, MAX_CAPACITY)
    values: dict[str, Any] = {
        "name_zh": _text(name_zh, "name_zh"),
        "name_en": _text(name_en, "name_en"),
        "capacity": capacity,
        "needs_approval": bool(needs_approval),
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    if space.kind is SpaceKind.STUDY and capacity < len(space.seats):
        raise InvalidInput(
            "a study room holds at least as many people as it has seats", field="capacity"
        )
    changed = _apply(space, values)
    _audit(session, staff, "admin.space_changed", f"space:{space.id}", changed, now)
    return space


def _code(value: str) -> str:
    code = _text(value, "code", max_length=40).lower()
    if not code.replace("-", "").replace("_", "").isalnum() or not code.isascii():
        raise InvalidInput("code is letters, digits, - and _", field="code")
    return code


def create_space(
    session: Session,
    staff: StaffAccount,
    *,
    code: str,
    kind: SpaceKind,
    name_zh: str,
    name_en: str,
    capacity: int,
    needs_approval: bool,
    opens_at: time | None,
    closes_at: time | None,
    now: datetime,
) -> Space:
    """A new study or activity room at the admin's centre; codes are unique per centre."""
    code = _code(code)
    if not isinstance(kind, SpaceKind):
        raise InvalidInput("a space is a study room or an activity room", field="kind")
    _hours(opens_at, closes_at, optional=True)
    values: dict[str, Any] = {
        "code": code,
        "kind": kind,
        "name_zh": _text(name_zh, "name_zh"),
        "name_en": _text(name_en, "name_en"),
        "capacity": _whole(capacity, "capacity", 1, MAX_CAPACITY),
        "needs_approval": bool(needs_approval),
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    taken = session.scalar(
        select(Space.id).where(Space.site_id == staff.site_id, Space.code == code)
    )
    if taken is not None:
        raise Conflict(f"a space {code!r} exists already", field="code")
    space = Space(site_id=staff.site_id, **values)
    session.add(space)
    session.flush()
    audit.record_staff(
        session,
        staff,
        action="admin.space_added",
        now=now,
        subject=f"space:{space.id}",
        detail={k: _jsonable(v) for k, v in values.items()},
    )
    return space


def retire_space(session: Session, staff: StaffAccount, space_id: int, *, now: datetime) -> Space:
    """Stop a space taking bookings; refused while it has live bookings or a running series.

    The space and its bookings stay (history, insights); it is only no longer offered. Its
    waiting list ends in the same transaction, each resident told by a notice.
    """
    space = _space(session, staff, space_id)
    if space.retired_at is not None:
        raise Conflict("the space is retired already", field="space")
    live = (
        session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(
                Booking.space_id == space.id,
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.ends_at > now,
            )
        )
        or 0
    )
    if live:
        raise StillInUse(
            f"{live} booking(s) of the space are still to come", field="space", count=live
        )
    series = (
        session.scalar(
            select(func.count())
            .select_from(BookingSeries)
            .where(BookingSeries.space_id == space.id, BookingSeries.ends_on >= now.date())
        )
        or 0
    )
    if series:
        raise StillInUse(
            f"{series} series still meet in the space", field="space", count=series, series=True
        )
    space.retired_at = now
    ended = waitlist.end_queue_of_space(session, space, now=now)
    audit.record_staff(
        session, staff, action="admin.space_retired", now=now, subject=f"space:{space.id}",
        detail={"code": space.code, "waitlist_ended": ended},
    )  # fmt: skip
    return space


def restore_space(session: Session, staff: StaffAccount, space_id: int, *, now: datetime) -> Space:
    """Put a retired space back in use: the kiosk offers it and it takes bookings again."""
    space = _space(session, staff, space_id)
    if space.retired_at is None:
        raise Conflict("the space is in use", field="space")
    retired_at = space.retired_at
    space.retired_at = None
    audit.record_staff(
        session, staff, action="admin.space_restored", now=now, subject=f"space:{space.id}",
        detail={"code": space.code, "retired_at": retired_at.isoformat()},
    )  # fmt: skip
    return space


def _seat_features(
    has_power: bool, by_window: bool, quiet_zone: bool, map_row: int, map_col: int
) -> dict[str, Any]:
    return {
        "has_power": bool(has_power),
        "by_window": bool(by_window),
        "quiet_zone": bool(quiet_zone),
        "map_row": _whole(map_row, "map_row", 0, MAX_MAP_CELL),
        "map_col": _whole(map_col, "map_col", 0, MAX_MAP_CELL),
    }


def add_seat(
    session: Session,
    staff: StaffAccount,
    space_id: int,
    *,
    number: int,
    has_power: bool,
    by_window: bool,
    quiet_zone: bool,
    map_row: int,
    map_col: int,
    now: datetime,
) -> Seat:
    """A new seat in a study room; its number is unique in the room."""
    space = _space(session, staff, space_id)
    if space.kind is not SpaceKind.STUDY:
        raise InvalidInput("only study rooms have seats", field="space")
    number = _whole(number, "number", 1, MAX_SEAT_NUMBER)
    if any(seat.number == number for seat in space.seats):
        raise Conflict(f"seat {number} exists already", field="number")
    seat = Seat(number=number, **_seat_features(has_power, by_window, quiet_zone, map_row, map_col))
    space.seats.append(seat)
    if len(space.seats) > space.capacity:
        space.capacity = len(space.seats)
    session.flush()
    audit.record_staff(
        session,
        staff,
        action="admin.seat_added",
        now=now,
        subject=f"seat:{seat.id}",
        detail={"space": space.id, "number": number},
    )
    return seat


def update_seat(
    session: Session,
    staff: StaffAccount,
    seat_id: int,
    *,
    has_power: bool,
    by_window: bool,
    quiet_zone: bool,
    map_row: int,
    map_col: int,
    now: datetime,
) -> Seat:
    seat = session.get(Seat, seat_id)
    if seat is None or seat.space.site_id != staff.site_id:
        raise NotFound("no such seat", seat_id=seat_id)
    changed = _apply(seat, _seat_features(has_power, by_window, quiet_zone, map_row, map_col))
    _audit(session, staff, "admin.seat_changed", f"seat:{seat.id}", changed, now)
    return seat


@dataclass(frozen=True)
class Locker:
    """A locker as the device registry knows it (booking does not import devices)."""

    device_id: str
    site_id: int
    compartments: int | None  # as the locker reported it; None until its first birth


# --- tools --------------------------------------------------------------------------------------


def save_tool_type(
    session: Session,
    staff: StaffAccount,
    tool_type_id: int | None,
    *,
    code: str,
    name_zh: str,
    name_en: str,
    loan_days: int,
    description_zh: str = "",
    description_en: str = "",
    safety_note_zh: str = "",
    safety_note_en: str = "",
    now: datetime,
) -> ToolType:
    """Add a tool type (``tool_type_id`` None) or change one; codes are unique per centre."""
    code = _code(code)
    values = {
        "code": code,
        "name_zh": _text(name_zh, "name_zh"),
        "name_en": _text(name_en, "name_en"),
        "loan_days": _whole(loan_days, "loan_days", 1, MAX_LOAN_DAYS),
        "description_zh": _text(description_zh, "description_zh", required=False, max_length=2000),
        "description_en": _text(description_en, "description_en", required=False, max_length=2000),
        "safety_note_zh": _text(safety_note_zh, "safety_note_zh", required=False, max_length=2000),
        "safety_note_en": _text(safety_note_en, "safety_note_en", required=False, max_length=2000),
    }
    same_code = session.scalar(
        select(ToolType.id).where(ToolType.site_id == staff.site_id, ToolType.code == code)
    )
    if tool_type_id is None:
        if same_code is not None:
            raise Conflict(f"a tool type {code!r} exists already", field="code")
        tool_type = ToolType(site_id=staff.site_id, **values)
        session.add(tool_type)
        session.flush()
        audit.record_staff(
            session,
            staff,
            action="admin.tool_type_added",
            now=now,
            subject=f"tool_type:{tool_type.id}",
            detail={"code": code},
        )
        return tool_type
    existing = _tool_type(session, staff, tool_type_id)
    if same_code is not None and same_code != tool_type_id:
        raise Conflict(f"a tool type {code!r} exists already", field="code")
    changed = _apply(existing, values)
    _audit(session, staff, "admin.tool_type_changed", f"tool_type:{tool_type_id}", changed, now)
    return existing


def retire_tool_type(
    session: Session, staff: StaffAccount, tool_type_id: int, *, now: datetime
) -> ToolType:
    """Stop lending a tool type; refused while any of its items is reserved or lent.

    The type, its items and their lending history stay; it leaves the kiosk's catalogue.
    """
    tool_type = _tool_type(session, staff, tool_type_id)
    if tool_type.retired_at is not None:
        raise Conflict("the tool type is retired already", field="tool_type")
    lent = (
        session.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.tool_type_id == tool_type.id, Item.status.in_(_LENT_STATUSES))
        )
        or 0
    )
    if lent:
        raise StillInUse(
            f"{lent} item(s) of the type are reserved or lent", field="tool_type", count=lent
        )
    tool_type.retired_at = now
    audit.record_staff(
        session, staff, action="admin.tool_type_retired", now=now,
        subject=f"tool_type:{tool_type.id}", detail={"code": tool_type.code},
    )  # fmt: skip
    return tool_type


def restore_tool_type(
    session: Session, staff: StaffAccount, tool_type_id: int, *, now: datetime
) -> ToolType:
    """Lend a retired tool type again: it is back in the kiosk's catalogue with its items."""
    tool_type = _tool_type(session, staff, tool_type_id)
    if tool_type.retired_at is None:
        raise Conflict("the tool type is in use", field="tool_type")
    retired_at = tool_type.retired_at
    tool_type.retired_at = None
    audit.record_staff(
        session, staff, action="admin.tool_type_restored", now=now,
        subject=f"tool_type:{tool_type.id}",
        detail={"code": tool_type.code, "retired_at": retired_at.isoformat()},
    )  # fmt: skip
    return tool_type


def save_item(
    session: Session,
    staff: StaffAccount,
    item_id: int | None,
    *,
    tool_type_id: int,
    asset_tag: str,
    locker: Locker | None,
    compartment: int | None,
    status: ItemStatus,
    now: datetime,
) -> Item:
    """Add an item (``item_id`` None) or change one: its tag, type, place and status.

    The place is a locker of the centre and a compartment, or the counter (both None); the
    caller looks the locker up in the device registry. An item reserved or lent keeps its
    place and status: the loan decides those.
    """
    asset_tag = _text(asset_tag, "asset_tag", max_length=40).upper()
    tool_type = session.get(ToolType, tool_type_id)
    if tool_type is None or tool_type.site_id != staff.site_id:
        raise InvalidInput("choose a tool type of this centre", field="tool_type")
    # Locked: a loan or pickup under way decides the item's status, and the check below
    # must see it rather than overwrite it (booking.core.row_locks).
    existing = row_locks.lock_item(session, item_id) if item_id is not None else None
    if item_id is not None and (existing is None or existing.site_id != staff.site_id):
        raise NotFound("no such item", item_id=item_id)
    if tool_type.retired_at is not None and (
        existing is None or existing.tool_type_id != tool_type.id
    ):
        raise InvalidInput("that tool type is retired: it takes no new items", field="tool_type")
    # A lent item's form sends its status back unchanged; any other status is set by hand.
    keeps_status = existing is not None and status is existing.status
    if status not in SETTABLE_ITEM_STATUSES and not keeps_status:
        raise InvalidInput("an item is available, in maintenance or lost", field="status")
    if (locker is None) != (compartment is None):
        raise InvalidInput("give both a locker and a compartment, or neither", field="compartment")
    locker_device_id = locker.device_id if locker is not None else None
    if locker is not None and compartment is not None:
        if locker.site_id != staff.site_id:
            raise InvalidInput("choose a locker of this centre", field="locker")
        _whole(compartment, "compartment", 1, locker.compartments or MAX_COMPARTMENT)
        taken = session.scalar(
            select(Item.id).where(
                Item.locker_device_id == locker_device_id, Item.compartment == compartment
            )
        )
        if taken is not None and taken != item_id:
            raise Conflict("another item is kept in that compartment", field="compartment")
    same_tag = session.scalar(select(Item.id).where(func.upper(Item.asset_tag) == asset_tag))
    if same_tag is not None and same_tag != item_id:
        raise Conflict(f"asset tag {asset_tag} is in use", field="asset_tag")
    values: dict[str, Any] = {
        "tool_type_id": tool_type.id,
        "asset_tag": asset_tag,
        "locker_device_id": locker_device_id,
        "compartment": compartment,
        "status": status,
    }
    if item_id is None:
        item = Item(site_id=staff.site_id, **values)
        session.add(item)
        session.flush()
        audit.record_staff(
            session,
            staff,
            action="admin.item_added",
            now=now,
            subject=f"item:{item.id}",
            detail={k: _jsonable(v) for k, v in values.items()},
        )
        return item
    found = existing
    if found is None:
        raise NotFound("no such item", item_id=item_id)
    if found.status in _LENT_STATUSES and (
        status is not found.status
        or locker_device_id != found.locker_device_id
        or compartment != found.compartment
    ):
        raise Conflict("the item is reserved or lent: its loan decides where it is", field="status")
    if found.status in _LENT_STATUSES:
        values["status"] = found.status
    changed = _apply(found, values)
    _audit(session, staff, "admin.item_changed", f"item:{found.id}", changed, now)
    return found


# --- lending policy -----------------------------------------------------------------------------


def save_lending_policy(
    session: Session, staff: StaffAccount, *, now: datetime, **values: int
) -> LendingPolicy:
    """The centre's lending rules; each field within :data:`POLICY_LIMITS`."""
    unknown = set(values) - set(POLICY_LIMITS)
    if unknown:
        raise InvalidInput(f"unknown policy fields: {sorted(unknown)}")
    checked = {
        name: _whole(values[name], name, *POLICY_LIMITS[name])
        for name in POLICY_LIMITS
        if name in values
    }
    policy = session.scalar(select(LendingPolicy).where(LendingPolicy.site_id == staff.site_id))
    if policy is None:
        policy = LendingPolicy(site_id=staff.site_id)
        session.add(policy)
        # Defaults of the model, so the audit's "old" values are what applied until now.
        for name in POLICY_LIMITS:
            column_default = LendingPolicy.__table__.c[name].default
            setattr(policy, name, column_default.arg if column_default is not None else None)
    changed = _apply(policy, checked)
    session.flush()
    _audit(session, staff, "admin.lending_policy_changed", f"site:{staff.site_id}", changed, now)
    return policy
