"""An audit entry's details in the staff's words: the keys ("resident_id", "grid_minutes") as
labels, and values that are codes (statuses, purposes, reasons) through the console's word maps."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from booking.lending.models.reservations import ReservationStatus
from kiosk.staff.audit_words import CODE_PURPOSE, Names
from kiosk.staff.devices.board import KIND_LABELS
from kiosk.staff.health.pages import CHANNEL_NAMES
from kiosk.staff.lending import event_words
from kiosk.staff.people.account_forms import REASON_LABELS
from kiosk.staff.people.resident_page import BOOKING_STATUS_LABELS

DETAIL_KEY: dict[str, LazyString] = {
    **event_words.DETAIL_KEY,
    "bind_id": _l("Card binding number"),
    "booked": _l("Booked"),
    "bookings_ended": _l("Bookings ended"),
    "card": _l("Card"),
    "cleared": _l("Cleared"),
    "client": _l("From"),
    "code": _l("Code"),
    "created": _l("Made"),
    "due_at": _l("Due"),
    "ends_at": _l("Ends"),
    "expires_at": _l("Expires"),
    "failure": _l("Why not"),
    "fields": _l("Fields"),
    "first": _l("First"),
    "from_site": _l("From centre"),
    "how": _l("How"),
    "joined": _l("Joined"),
    "last": _l("Last"),
    "last_date": _l("Last date"),
    "ledger_rows_released": _l("Message records released"),
    "loans": _l("Loans"),
    "lockers": _l("Lockers"),
    "merged_id": _l("Merged account number"),
    "merged_into": _l("Merged into"),
    "moved": _l("Moved"),
    "name": _l("Name"),
    "number": _l("Number"),
    "older_than": _l("Older than"),
    "on_date": _l("On"),
    "per_row": _l("Per row"),
    "readings": _l("Readings"),
    "rejected": _l("Refused"),
    "renewed": _l("Renewed"),
    "replaced": _l("Replaced"),
    "resolution": _l("Resolution"),
    "retention_days": _l("Days kept"),
    "retired_at": _l("Retired"),
    "rows": _l("Rows"),
    "residents": _l("Residents"),
    "ruleset": _l("Rules"),
    "scopes": _l("Permissions"),
    "session_counter_was": _l("Message counter was"),
    "site": _l("Centre"),
    "sms": _l("Text message"),
    "space": _l("Space"),
    "space_id": _l("Space number"),
    "staff_id": _l("Staff number"),
    "starts_at": _l("Starts"),
    "status": _l("Status"),
    "survivor_id": _l("Account kept"),
    "suspension_id": _l("Suspension number"),
    "title": _l("Title"),
    "to_site": _l("To centre"),
    "tool_type_id": _l("Kind of tool number"),
    "until": _l("Until"),
    "waitlist_ended": _l("Waiting list ended"),
    "waits_ended": _l("Waits ended"),
    "was": _l("Was"),
    "asset_tag": _l("Asset tag"),
    "file_sha256": _l("File fingerprint"),
    "loan_ended": _l("Loan ended"),
    "loan_id": _l("Loan number"),
    "taken": _l("Taken"),
    "channel": _l("How"),
    "notice_version": _l("Notice version"),
    "readings_deleted": _l("Readings deleted"),
    "other_health_data_deleted": _l("Other health records deleted"),
    "sign_in_failures_deleted": _l("Wrong sign-in records deleted"),
    "messages_deleted": _l("Messages deleted"),
    # What staff change on the admin pages, by the field's name.
    "address": _l("Address"),
    "capacity": _l("Capacity"),
    "opens_at": _l("Opens"),
    "closes_at": _l("Closes"),
    "description_en": _l("Description (English)"),
    "description_zh": _l("Description (Chinese)"),
    "name_en": _l("Name (English)"),
    "name_zh": _l("Name (Chinese)"),
    "safety_note_en": _l("Safety note (English)"),
    "safety_note_zh": _l("Safety note (Chinese)"),
    "loan_days": _l("Loan days"),
    "locker_device_id": _l("Locker"),
    "needs_approval": _l("Needs approval"),
    "has_power": _l("Power socket"),
    "by_window": _l("By the window"),
    "quiet_zone": _l("Quiet zone"),
    "map_row": _l("Row on the map"),
    "map_col": _l("Column on the map"),
    "max_items_on_loan": _l("Most items on loan"),
    "hold_minutes": _l("Minutes a tool is held"),
    "door_open_timeout_s": _l("Seconds to open the door"),
    "overdue_strikes": _l("Overdue loans before a suspension"),
    "overdue_window_days": _l("Days overdue loans are counted over"),
    "suspension_days": _l("Days of suspension"),
    "escalate_after_days": _l("Days overdue before staff are alerted"),
    "max_renewals": _l("Most renewals"),
    "no_show_strikes": _l("Count uncollected reservations"),
    "bookable_days": _l("Days ahead bookable"),
    "grid_minutes": _l("Time grid (minutes)"),
    "max_booking_minutes": _l("Longest booking (minutes)"),
    "max_minutes_per_day": _l("Most minutes a day"),
    "check_in_early_minutes": _l("Minutes early to check in"),
    "check_in_late_minutes": _l("Minutes late to check in"),
    "max_leave_minutes": _l("Longest short leave (minutes)"),
    "strikes_to_suspend": _l("No-shows before a suspension"),
    "strike_window_days": _l("Days no-shows are counted over"),
    "offer_minutes": _l("Minutes to take up an offer"),
}
OTHER_DETAIL = _l("Other detail")
RESIDENT = _l("Resident")
# A time the domain stored as ISO text ("expires_at": "2026-11-24T10:00:00+00:00").
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")

RESERVATION_STATUS: dict[str, LazyString] = {
    ReservationStatus.WAITING.value: _l("Waiting in the queue"),
    ReservationStatus.HELD.value: _l("Held for pickup"),
    ReservationStatus.COLLECTED.value: _l("Collected"),
    ReservationStatus.CANCELLED.value: _l("Cancelled"),
    ReservationStatus.NO_SHOW.value: _l("Not collected"),
    ReservationStatus.LAPSED.value: _l("Lapsed"),
}
# A status is a booking's or a tool reservation's, by the entry's subject.
STATUS_BY_SUBJECT: dict[str, Mapping[str, LazyString]] = {
    "booking": {status.value: words for status, words in BOOKING_STATUS_LABELS.items()},
    "tool_reservation": RESERVATION_STATUS,
}
ANY_STATUS = {**RESERVATION_STATUS, **STATUS_BY_SUBJECT["booking"]}
VALUES: dict[str, Mapping[str, LazyString]] = {
    **event_words._VALUES,
    "purpose": {**event_words.PURPOSE, **CODE_PURPOSE},
    "channel": {channel.value: words for channel, words in CHANNEL_NAMES.items()},
    "reason": {
        **event_words.RELEASE_REASON,
        **{reason.value: words for reason, words in REASON_LABELS.items()},
    },
    "kind": {
        **event_words._VALUES["kind"],
        **{kind.value: words for kind, words in KIND_LABELS.items()},
    },
}


def _value_text(key: str, value: Any, subject_kind: str) -> str:
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return " → ".join(_value_text(key, one, subject_kind) for one in value)
    if isinstance(value, dict):
        return str(_("; ")).join(
            str(_("%(label)s: %(value)s", label=DETAIL_KEY.get(k, k), value=_value_text(k, v, "")))
            for k, v in value.items()
        )
    if isinstance(value, str) and ISO_TIME.fullmatch(value):
        return value[:16].replace("T", " ")  # the stored UTC time, to the minute
    words = VALUES.get(key)
    if key == "status":
        words = STATUS_BY_SUBJECT.get(subject_kind) or ANY_STATUS
    return str((words or {}).get(str(value), value))


@dataclass(frozen=True)
class Detail:
    label: str
    value: str
    code: str = ""


def detail_words(detail: Mapping[str, Any], subject: str, names: Names) -> list[Detail]:
    """Each detail as label and value in words; a key with no words is "Other detail" with the
    key in small type. The resident a detail names reads as the console shows residents."""
    kind = subject.partition(":")[0]
    shown = []
    for key, value in sorted(detail.items()):
        if key == "resident_id" and value is not None:
            shown.append(Detail(str(RESIDENT), names.resident_named(str(value))))
            continue
        label = DETAIL_KEY.get(key)
        text = _value_text(key, value, kind)
        if label is None:
            shown.append(Detail(str(OTHER_DETAIL), text, key))
        else:
            shown.append(Detail(str(label), text))
    return shown
