"""What a centre's admins change of its places: opening hours, spaces and seats (tool types,
items and the lending policy are in ``booking.admin.tools``). Each function checks its input,
changes one thing at the admin's own site and audits what changed (old and new values) in
the same transaction.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.admin import checks
from booking.core import audit
from booking.core.errors import Conflict, InvalidInput, NotFound, StillInUse
from booking.core.models.sites import Site
from booking.people.models.staff import StaffAccount
from booking.spaces import waitlist
from booking.spaces.models.bookings import ACTIVE_STATUSES, Booking
from booking.spaces.models.seats import Seat
from booking.spaces.models.series import BookingSeries
from booking.spaces.models.spaces import Space, SpaceKind

MAX_CAPACITY = 500
MAX_SEAT_NUMBER = 999
MAX_MAP_CELL = 50


# --- site and spaces ----------------------------------------------------------------------------


def update_site(
    session: Session,
    staff: StaffAccount,
    *,
    name_zh: str,
    name_en: str,
    address: str,
    opens_at: time,
    closes_at: time,
    now: datetime,
) -> Site:
    """The centre's names, address and opening hours (spaces without hours of their own follow
    them). The slug and timezone stay as created: devices and stored local times depend on them."""
    checks.hours(opens_at, closes_at, optional=False)
    site = session.get_one(Site, staff.working_site_id)
    values: dict[str, Any] = {
        "name_zh": checks.text(name_zh, "name_zh"),
        "name_en": checks.text(name_en, "name_en"),
        "address": checks.text(address, "address", required=False, max_length=200),
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    changed = checks.apply_changes(site, values)
    checks.audit_changes(session, staff, "admin.site_changed", f"site:{site.slug}", changed, now)
    return site


def space_of(session: Session, staff: StaffAccount, space_id: int) -> Space:
    """A space of the admin's own centre; another centre's is as good as absent."""
    space = session.get(Space, space_id)
    if space is None or space.site_id != staff.working_site_id:
        raise NotFound("no such space", space_id=space_id)
    return space


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
    space = space_of(session, staff, space_id)
    checks.hours(opens_at, closes_at, optional=True)
    capacity = checks.whole(capacity, "capacity", 1, MAX_CAPACITY)
    values: dict[str, Any] = {
        "name_zh": checks.text(name_zh, "name_zh"),
        "name_en": checks.text(name_en, "name_en"),
        "capacity": capacity,
        "needs_approval": bool(needs_approval),
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    if space.kind is SpaceKind.STUDY and capacity < len(space.seats):
        raise InvalidInput(
            "a study room holds at least as many people as it has seats",
            field="capacity",
            reason="capacity_below_seats",
        )
    changed = checks.apply_changes(space, values)
    checks.audit_changes(session, staff, "admin.space_changed", f"space:{space.id}", changed, now)
    return space


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
    code = checks.code(code)
    if not isinstance(kind, SpaceKind):
        raise InvalidInput(
            "a space is a study room or an activity room", field="kind", reason="space_kind"
        )
    checks.hours(opens_at, closes_at, optional=True)
    values: dict[str, Any] = {
        "code": code,
        "kind": kind,
        "name_zh": checks.text(name_zh, "name_zh"),
        "name_en": checks.text(name_en, "name_en"),
        "capacity": checks.whole(capacity, "capacity", 1, MAX_CAPACITY),
        "needs_approval": bool(needs_approval),
        "opens_at": opens_at,
        "closes_at": closes_at,
    }
    taken = session.scalar(
        select(Space.id).where(Space.site_id == staff.working_site_id, Space.code == code)
    )
    if taken is not None:
        raise Conflict(f"a space {code!r} exists already", field="code")
    space = Space(site_id=staff.working_site_id, **values)
    session.add(space)
    session.flush()
    audit.record_staff(
        session,
        staff,
        action="admin.space_added",
        now=now,
        subject=f"space:{space.id}",
        detail={k: checks.jsonable(v) for k, v in values.items()},
    )
    return space


def retire_space(session: Session, staff: StaffAccount, space_id: int, *, now: datetime) -> Space:
    """Stop a space taking bookings; refused while it has live bookings or a running series.

    The space and its bookings stay (history, insights); it is only no longer offered. Its
    waiting list ends in the same transaction, each resident told by a notice.
    """
    space = space_of(session, staff, space_id)
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
    space = space_of(session, staff, space_id)
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
        "map_row": checks.whole(map_row, "map_row", 0, MAX_MAP_CELL),
        "map_col": checks.whole(map_col, "map_col", 0, MAX_MAP_CELL),
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
    space = space_of(session, staff, space_id)
    if space.kind is not SpaceKind.STUDY:
        raise InvalidInput("only study rooms have seats", field="space", reason="seats_study_only")
    number = checks.whole(number, "number", 1, MAX_SEAT_NUMBER)
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


MAX_SEATS_AT_ONCE = 200


def add_seat_rows(
    session: Session,
    staff: StaffAccount,
    space_id: int,
    *,
    first: int,
    last: int,
    per_row: int,
    now: datetime,
) -> list[Seat]:
    """Seats ``first``..``last`` at once, laid out ``per_row`` to a row of the seat map below
    any seats there already: a new study room of 40 seats is one form, not forty."""
    space = space_of(session, staff, space_id)
    if space.kind is not SpaceKind.STUDY:
        raise InvalidInput("only study rooms have seats", field="space", reason="seats_study_only")
    first = checks.whole(first, "first", 1, MAX_SEAT_NUMBER)
    last = checks.whole(last, "last", 1, MAX_SEAT_NUMBER)
    per_row = checks.whole(per_row, "per_row", 1, MAX_MAP_CELL)
    if last < first:
        raise InvalidInput(
            "the last seat number comes after the first", field="last", reason="seats_reversed"
        )
    if last - first + 1 > MAX_SEATS_AT_ONCE:
        raise InvalidInput(
            f"at most {MAX_SEATS_AT_ONCE} seats at once", field="last", reason="too_many_seats",
            most=MAX_SEATS_AT_ONCE,
        )  # fmt: skip
    taken = sorted(seat.number for seat in space.seats if first <= seat.number <= last)
    if taken:
        raise Conflict(f"seat {taken[0]} exists already", field="number")
    top = max((seat.map_row for seat in space.seats), default=-1) + 1
    if top + (last - first) // per_row > MAX_MAP_CELL:
        raise InvalidInput(
            "the seat map has no room for so many rows", field="per_row", reason="seat_map_full"
        )
    added = []
    for offset, number in enumerate(range(first, last + 1)):
        seat = Seat(number=number, map_row=top + offset // per_row, map_col=offset % per_row)
        space.seats.append(seat)
        added.append(seat)
    if len(space.seats) > space.capacity:
        space.capacity = len(space.seats)
    session.flush()
    audit.record_staff(
        session,
        staff,
        action="admin.seats_added",
        now=now,
        subject=f"space:{space.id}",
        detail={"first": first, "last": last, "per_row": per_row},
    )
    return added


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
    if seat is None or seat.space.site_id != staff.working_site_id:
        raise NotFound("no such seat", seat_id=seat_id)
    changed = checks.apply_changes(
        seat, _seat_features(has_power, by_window, quiet_zone, map_row, map_col)
    )
    checks.audit_changes(session, staff, "admin.seat_changed", f"seat:{seat.id}", changed, now)
    return seat
