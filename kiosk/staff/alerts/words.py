"""How the console words an alert: its kind and severity in plain language, its age, its subject.

Alerts store a dotted ``kind`` code, an English summary and the ``params`` of that summary;
staff read the kind and the summary in their own language, worded here. A kind this table does
not know yet is shown as its code rather than hidden, and a summary it cannot word (an unknown
kind, an alert raised before params were kept) as the stored English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import LazyString, format_datetime, format_timedelta, get_locale
from flask_babel import lazy_gettext as _l

from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert

KIND_LABELS: dict[str, LazyString] = {
    "bp.urgent": _l("Blood pressure: urgent reading"),
    "bp.follow_up": _l("Blood pressure: follow-up visit"),
    "locker.forced_open": _l("Locker door forced open"),
    "locker.door_left_open": _l("Locker door left open"),
    "locker.jammed": _l("Locker lock jammed"),
    "device.offline": _l("Device offline"),
    "device.dead_letter": _l("Device messages refused"),
    "device.clock": _l("Device clock wrong"),
    "device.session_behind": _l("Device session counter went back"),
    "loan.overdue": _l("Loan overdue"),
    "message.gave_up": _l("Message not sent"),
    "message.expired": _l("Message too old to send"),
    "lending.damaged": _l("Tool returned damaged"),
    "lending.parts_missing": _l("Tool returned with parts missing"),
    "lending.compartment_occupied": _l("Return refused: compartment occupied"),
    "lending.item_missing": _l("Tool taken from a locker without a loan"),
    "lending.confirmed_late": _l("Loan confirmed late by the locker"),
    "lending.present_during_loan": _l("Returned without a return?"),
    "lending.wrong_compartment": _l("Something put into a locker unexpectedly"),
}

# The summary of each kind in words staff read in their own language, filled from the alert's
# params; the first wording whose params the alert has is used (a fault may name a
# compartment or only the device). Keep each in step with the English ``summary`` its raiser
# stores, and never give one a blood-pressure value.
SUMMARIES: dict[str, tuple[LazyString, ...]] = {
    "bp.urgent": (_l("Urgent reading: see the resident's health page now"),),
    "bp.follow_up": (_l("High on several days: visit the resident"),),
    "locker.forced_open": (
        _l("%(device)s: compartment %(compartment)s forced open"),
        _l("%(device)s: the device was forced open"),
    ),
    "locker.door_left_open": (
        _l("%(device)s: compartment %(compartment)s left open"),
        _l("%(device)s: a door was left open"),
    ),
    "locker.jammed": (
        _l("%(device)s: compartment %(compartment)s jammed"),
        _l("%(device)s: the lock jammed"),
    ),
    "device.offline": (_l("%(device)s (%(device_id)s) went offline"),),
    "device.dead_letter": (_l("Device messages refused (%(reason)s), first from %(device_id)s"),),
    "device.clock": (_l("%(device)s: its clock is wrong; set it (NTP)"),),
    "device.session_behind": (
        _l("%(device)s: its session counter went back; an admin resets it on the device board"),
    ),
    "loan.overdue": (_l("%(tool)s %(asset)s is %(days)s days overdue"),),
    "message.gave_up": (
        _l(
            "A message to the resident was not sent after %(attempts)s tries: tell them another way"
        ),
    ),
    "message.expired": (
        _l(
            "A message to the resident could not be sent within %(hours)s hours and was dropped: "
            "tell them another way if it still matters"
        ),
    ),
    "lending.damaged": (_l("%(tool)s %(asset)s returned damaged; now in maintenance"),),
    "lending.parts_missing": (
        _l("%(tool)s %(asset)s returned with parts missing; now in maintenance"),
    ),
    "lending.compartment_occupied": (
        _l(
            "%(device)s compartment %(compartment)s holds something: "
            "%(tool)s %(asset)s could not be returned there"
        ),
    ),
    "lending.item_missing": (
        _l("%(tool)s %(asset)s left %(device)s compartment %(compartment)s with no loan"),
    ),
    "lending.confirmed_late": (
        _l(
            "%(tool)s %(asset)s left %(device)s compartment %(compartment)s after its pickup "
            "had ended; lent to the resident who opened it"
        ),
    ),
    "lending.present_during_loan": (
        _l(
            "%(tool)s %(asset)s is in %(device)s compartment %(compartment)s, "
            "but its loan is still open"
        ),
    ),
    "lending.wrong_compartment": (
        _l(
            "A tool was put into %(device)s compartment %(compartment)s; "
            "it belongs in compartment %(expected)s"
        ),
        _l(
            "Something was put into %(device)s compartment %(compartment)s, where nothing was expected"
        ),
    ),
}

SEVERITY_LABELS: dict[AlertSeverity, LazyString] = {
    AlertSeverity.URGENT: _l("Urgent"),
    AlertSeverity.WARNING: _l("Today"),
    AlertSeverity.INFO: _l("For information"),
}

STATUS_LABELS: dict[AlertStatus, LazyString] = {
    AlertStatus.OPEN: _l("New"),
    AlertStatus.ACKNOWLEDGED: _l("Someone is on it"),
    AlertStatus.RESOLVED: _l("Resolved"),
}

SEVERITY_RANK = {AlertSeverity.URGENT: 0, AlertSeverity.WARNING: 1, AlertSeverity.INFO: 2}


def _in_viewer_language(params: Mapping[str, Any]) -> dict[str, Any]:
    """``tool_zh``/``tool_en`` become ``tool`` in the console's language (English otherwise)."""
    chinese = get_locale() is not None and str(get_locale()).startswith("zh")
    words = dict(params)
    for key, value in params.items():
        base, _sep, language = key.rpartition("_")
        if language in ("zh", "en") and base:
            if (language == "zh") == chinese or base not in words:
                words[base] = value
    return words


def summary(kind: str, params: Mapping[str, Any], fallback: str) -> str:
    """The alert's summary in the viewer's language, or ``fallback`` (the stored English)."""
    words = _in_viewer_language(params)
    for wording in SUMMARIES.get(kind, ()):
        try:
            return str(wording) % words if "%(" in str(wording) else str(wording)
        except (KeyError, TypeError, ValueError):
            continue
    return fallback


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind


@dataclass(frozen=True)
class AlertView:
    """An alert as the console shows it, copied out of the database session."""

    id: int
    kind: str
    kind_label: str
    severity: str
    severity_label: str
    severity_rank: int
    status: str
    status_label: str
    summary: str
    subject_label: str
    subject_href: str | None
    created_at: datetime
    created_label: str
    age_label: str
    resolved_label: str
    note: str

    @property
    def is_resolved(self) -> bool:
        return self.status == AlertStatus.RESOLVED.value


def subject_of(subject: str) -> tuple[str, str | None]:
    """Words and, where the console has a page for it, a link for ``"resident:17"`` and kin."""
    prefix, _sep, key = subject.partition(":")
    if prefix == "resident" and key.isdigit():
        return str(_l("Resident no. %(id)s", id=key)), url_for(
            "staff.resident", resident_id=int(key)
        )
    if prefix == "device" and key:
        return str(_l("Device %(id)s", id=key)), url_for("staff.devices") + f"#device-{key}"
    if prefix == "item" and key.isdigit():
        return str(_l("Item no. %(id)s", id=key)), url_for("staff.lending_item", item_id=int(key))
    if prefix == "loan" and key:
        return str(_l("Loan no. %(id)s", id=key)), None
    if prefix == "mismatch" and key.isdigit():
        return str(_l("Locker check no. %(id)s", id=key)), url_for(
            "staff.lending_mismatches"
        ) + f"#mismatch-{key}"
    return subject, None


def age(moment: datetime, now: datetime) -> str:
    """How long ago, in words; under a minute (or a clock a little ahead) is "just now"."""
    if now - moment < timedelta(minutes=1):
        return str(_l("just now"))
    return str(format_timedelta(moment - now, add_direction=True))


def view(alert: StaffAlert, now: datetime) -> AlertView:
    subject_label, subject_href = subject_of(alert.subject)
    return AlertView(
        id=alert.id,
        kind=alert.kind,
        kind_label=kind_label(alert.kind),
        severity=alert.severity.value,
        severity_label=str(SEVERITY_LABELS[alert.severity]),
        severity_rank=SEVERITY_RANK[alert.severity],
        status=alert.status.value,
        status_label=str(STATUS_LABELS[alert.status]),
        summary=summary(alert.kind, alert.params or {}, alert.summary),
        subject_label=subject_label,
        subject_href=subject_href,
        created_at=alert.created_at,
        created_label=format_datetime(alert.created_at, "short"),
        age_label=age(alert.created_at, now),
        resolved_label=format_datetime(alert.resolved_at, "short") if alert.resolved_at else "",
        note=alert.note,
    )
