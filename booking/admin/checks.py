"""The checks and the audit every admin change shares: text and whole numbers within bounds,
opening hours in order, and what changed (old and new values) recorded with who changed it."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import InvalidInput
from booking.lending.models.tools import ItemStatus
from booking.people.models.staff import StaffAccount
from booking.spaces.models.spaces import SpaceKind


def jsonable(value: object) -> object:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, ItemStatus | SpaceKind):
        return value.value
    return value


def apply_changes(row: object, values: dict[str, Any]) -> dict[str, list[object]]:
    """Set ``values`` on ``row``; return what changed as ``{field: [old, new]}`` for the audit."""
    changed: dict[str, list[object]] = {}
    for name, new in values.items():
        old = getattr(row, name)
        if old != new:
            changed[name] = [jsonable(old), jsonable(new)]
            setattr(row, name, new)
    return changed


def text(value: str, field: str, *, required: bool = True, max_length: int = 100) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{field} is required", field=field, reason="required")
    if len(value) > max_length:
        raise InvalidInput(
            f"{field} is at most {max_length} characters", field=field, reason="too_long",
            max_length=max_length,
        )  # fmt: skip
    return value


def whole(value: int, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(
            f"{field} must be a whole number from {low} to {high}", field=field,
            reason="out_of_range", low=low, high=high,
        )  # fmt: skip
    return value


def hours(opens_at: time | None, closes_at: time | None, *, optional: bool) -> None:
    if opens_at is None and closes_at is None and optional:
        return
    if opens_at is None or closes_at is None:
        raise InvalidInput(
            "give both the opening and the closing time", field="opens_at", reason="hours_half"
        )
    if opens_at >= closes_at:
        raise InvalidInput(
            "the centre must open before it closes", field="closes_at", reason="hours_reversed"
        )


def audit_changes(
    session: Session,
    staff: StaffAccount,
    action: str,
    subject: str,
    changed: dict[str, Any],
    now: datetime,
) -> None:
    if changed:
        audit.record_staff(session, staff, action=action, now=now, subject=subject, detail=changed)


def code(value: str) -> str:
    """A short code staff type (``study``, ``drill``): letters, digits, - and _, lower case."""
    found = text(value, "code", max_length=40).lower()
    if not found.replace("-", "").replace("_", "").isalnum() or not found.isascii():
        raise InvalidInput("code is letters, digits, - and _", field="code", reason="code_chars")
    return found
