"""The details of an item's history and who did it, in the staff's words: the domain stores
stable codes ("condition": "fine", "reason": "timed_out", "staff:zhao"), the console shows
what they mean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.lending.models.door_sessions import DoorPurpose, ReleaseReason
from kiosk.staff.lending import mismatch_words
from kiosk.staff.lending.words import CONDITION

# An item's condition is "good" until staff write why it went to maintenance (free text).
ITEM_GOOD = "good"

DETAIL_KEY: dict[str, LazyString] = {
    "condition": _l("Condition"),
    "note": _l("Note"),
    "reason": _l("Reason"),
    "device_reason": _l("The device's reason"),
    "device_id": _l("Device"),
    "compartment": _l("Compartment"),
    "purpose": _l("Purpose"),
    "kind": _l("Kind"),
    "item_id": _l("Item number"),
    "resident_id": _l("Resident number"),
    "command_id": _l("Command"),
    "days_overdue": _l("Days overdue"),
    "mismatch_id": _l("Mismatch number"),
    "door_session_id": _l("Door session number"),
    "requested_by": _l("Requested by"),
    "reservation_id": _l("Reservation number"),
    "reservation": _l("Held for"),
    "due_before": _l("Due before"),
    "due_after": _l("Due now"),
    "renewals": _l("Times renewed"),
}
# What a hold was made for: a reservation of a day and time, or the queue.
RESERVATION = {"window": _l("a reservation"), "queue": _l("the first in the queue")}

# Yes/no details are shown by their words alone when true, and not at all when false.
DETAIL_FLAG: dict[str, LazyString] = {
    "after_release": _l("after the reservation was released"),
    "put_back_during_pickup": _l("put back during the pickup"),
    "confirmed_late": _l("confirmed late by the locker"),
}

PURPOSE = {DoorPurpose.PICKUP.value: _l("Pickup"), DoorPurpose.RETURN.value: _l("Return")}

RELEASE_REASON = {
    ReleaseReason.DEVICE_OFFLINE.value: _l("the locker was offline"),
    ReleaseReason.REJECTED.value: _l("the locker refused the command"),
    ReleaseReason.TIMED_OUT.value: _l("nobody came in time"),
    ReleaseReason.JAMMED.value: _l("the lock jammed"),
    ReleaseReason.DOOR_NOT_OPENED.value: _l("the door was not opened"),
    ReleaseReason.ITEM_LEFT_INSIDE.value: _l("the tool was left inside"),
    ReleaseReason.NOTHING_RETURNED.value: _l("nothing was put back"),
    ReleaseReason.COMPARTMENT_OCCUPIED.value: _l("the compartment was occupied"),
    ReleaseReason.COMPARTMENT_NOT_FREE.value: _l("the compartment was not free yet"),
    ReleaseReason.HOLD_EXPIRED.value: _l("the hold expired"),
    ReleaseReason.CANCELLED.value: _l("cancelled"),
}

_VALUES: dict[str, Mapping[str, LazyString]] = {
    "condition": CONDITION,
    "purpose": PURPOSE,
    # A maintenance reason is staff's own text; a door session's is one of the codes above.
    "reason": RELEASE_REASON,
    "kind": {kind.value: words for kind, words in mismatch_words.KIND.items()},
    "reservation": RESERVATION,
}


def item_condition(condition: str) -> str:
    """The item's condition: "good" in the staff's language, else what staff wrote."""
    return str(_("Good")) if condition == ITEM_GOOD else condition


def detail_text(detail: Mapping[str, Any] | None) -> str:
    """An event's details as "Condition: fine; Note: …" in the staff's language, leaving out
    empty values and false flags."""
    parts = []
    for key, value in (detail or {}).items():
        if key in DETAIL_FLAG:
            if value is True:
                parts.append(str(DETAIL_FLAG[key]))
            continue
        if value is None or value == "" or value is False:
            continue
        label = DETAIL_KEY.get(key)
        if label is None:
            continue  # a code the console has no words for is not shown raw
        shown = _VALUES.get(key, {}).get(str(value), value)
        if key == "requested_by":
            shown = _requested_by(str(value))
        elif key in ("due_before", "due_after"):
            shown = str(value)[:16].replace("T", " ")  # the UTC time, to the minute
        parts.append(str(_("%(label)s: %(value)s", label=label, value=shown)))
    return str(_("; ")).join(parts) if parts else ""


def _requested_by(value: str) -> str:
    # devices.locker.maintenance writes "maintenance:<username>:<reason>".
    kind, _sep, rest = value.partition(":")
    who, _sep, why = rest.partition(":")
    if kind == "maintenance" and who:
        return str(_("%(who)s, for maintenance: %(why)s", who=who, why=why))
    return value


def actor_text(actor: str) -> str:
    """Who did it: a staff member by their username, the system and devices in words."""
    kind, _sep, name = actor.partition(":")
    if kind == "staff" and name:
        return name
    if kind == "system":
        return str(_("The system"))
    if kind == "device" and name:
        return str(_("Device %(device)s", device=name))
    if kind == "resident":
        return str(_("The resident"))
    if kind == "api_token" and name:
        return str(_("API token %(number)s", number=name))
    return actor
