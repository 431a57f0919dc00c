"""What a centre's admins change of its lending: tool types, items (in a locker compartment or
at the counter) and the lending policy; each change checked and audited like the others."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.admin import checks
from booking.core import audit, row_locks
from booking.core.errors import Conflict, InvalidInput, NotFound, StillInUse
from booking.lending.models.policies import LendingPolicy
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.people.models.staff import StaffAccount

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
    "max_renewals": (0, 10),
    # The no-show rule: 1 counts a reserved tool nobody collected as a seat no-show is.
    "no_show_strikes": (0, 1),
}


def _tool_type(session: Session, staff: StaffAccount, tool_type_id: int) -> ToolType:
    tool_type = session.get(ToolType, tool_type_id)
    if tool_type is None or tool_type.site_id != staff.working_site_id:
        raise NotFound("no such tool type", tool_type_id=tool_type_id)
    return tool_type


@dataclass(frozen=True)
class Locker:
    """A locker as the device registry knows it (booking does not import devices)."""

    device_id: str
    site_id: int
    compartments: int | None  # as the locker reported it; None until its first birth


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
    code = checks.code(code)
    values = {
        "code": code,
        "name_zh": checks.text(name_zh, "name_zh"),
        "name_en": checks.text(name_en, "name_en"),
        "loan_days": checks.whole(loan_days, "loan_days", 1, MAX_LOAN_DAYS),
        "description_zh": checks.text(
            description_zh, "description_zh", required=False, max_length=2000
        ),
        "description_en": checks.text(
            description_en, "description_en", required=False, max_length=2000
        ),
        "safety_note_zh": checks.text(
            safety_note_zh, "safety_note_zh", required=False, max_length=2000
        ),
        "safety_note_en": checks.text(
            safety_note_en, "safety_note_en", required=False, max_length=2000
        ),
    }
    same_code = session.scalar(
        select(ToolType.id).where(ToolType.site_id == staff.working_site_id, ToolType.code == code)
    )
    if tool_type_id is None:
        if same_code is not None:
            raise Conflict(f"a tool type {code!r} exists already", field="code")
        tool_type = ToolType(site_id=staff.working_site_id, **values)
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
    changed = checks.apply_changes(existing, values)
    checks.audit_changes(
        session, staff, "admin.tool_type_changed", f"tool_type:{tool_type_id}", changed, now
    )
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
    asset_tag = checks.text(asset_tag, "asset_tag", max_length=40).upper()
    tool_type = session.get(ToolType, tool_type_id)
    if tool_type is None or tool_type.site_id != staff.working_site_id:
        raise InvalidInput(
            "choose a tool type of this centre", field="tool_type", reason="tool_type_elsewhere"
        )
    # Locked: a loan or pickup under way decides the item's status, and the check below
    # must see it rather than overwrite it (booking.core.row_locks).
    existing = row_locks.lock_item(session, item_id) if item_id is not None else None
    if item_id is not None and (existing is None or existing.site_id != staff.working_site_id):
        raise NotFound("no such item", item_id=item_id)
    if tool_type.retired_at is not None and (
        existing is None or existing.tool_type_id != tool_type.id
    ):
        raise InvalidInput(
            "that tool type is retired: it takes no new items", field="tool_type",
            reason="tool_type_retired",
        )  # fmt: skip
    # A lent item's form sends its status back unchanged; any other status is set by hand.
    keeps_status = existing is not None and status is existing.status
    if status not in SETTABLE_ITEM_STATUSES and not keeps_status:
        raise InvalidInput(
            "an item is available, in maintenance or lost", field="status", reason="item_status"
        )
    if (locker is None) != (compartment is None):
        raise InvalidInput(
            "give both a locker and a compartment, or neither", field="compartment",
            reason="locker_half",
        )  # fmt: skip
    locker_device_id = locker.device_id if locker is not None else None
    if locker is not None and compartment is not None:
        if locker.site_id != staff.working_site_id:
            raise InvalidInput(
                "choose a locker of this centre", field="locker", reason="locker_elsewhere"
            )
        checks.whole(compartment, "compartment", 1, locker.compartments or MAX_COMPARTMENT)
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
        item = Item(site_id=staff.working_site_id, **values)
        session.add(item)
        session.flush()
        audit.record_staff(
            session,
            staff,
            action="admin.item_added",
            now=now,
            subject=f"item:{item.id}",
            detail={k: checks.jsonable(v) for k, v in values.items()},
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
    changed = checks.apply_changes(found, values)
    checks.audit_changes(session, staff, "admin.item_changed", f"item:{found.id}", changed, now)
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
        name: checks.whole(values[name], name, *POLICY_LIMITS[name])
        for name in POLICY_LIMITS
        if name in values
    }
    if "no_show_strikes" in checked:
        checked["no_show_strikes"] = bool(checked["no_show_strikes"])
    policy = session.scalar(
        select(LendingPolicy).where(LendingPolicy.site_id == staff.working_site_id)
    )
    if policy is None:
        policy = LendingPolicy(site_id=staff.working_site_id)
        session.add(policy)
        # Defaults of the model, so the audit's "old" values are what applied until now.
        for name in POLICY_LIMITS:
            column_default = LendingPolicy.__table__.c[name].default
            setattr(policy, name, column_default.arg if column_default is not None else None)
    changed = checks.apply_changes(policy, checked)
    session.flush()
    checks.audit_changes(
        session,
        staff,
        "admin.lending_policy_changed",
        f"site:{staff.working_site_id}",
        changed,
        now,
    )
    return policy
