"""How the console words an alert: its kind and severity in plain language, its age, its subject.

Alerts store a dotted ``kind`` code and English summary; staff read the kind translated here.
A kind this table does not know yet is shown as its code rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import LazyString, format_datetime, format_timedelta
from flask_babel import lazy_gettext as _l

from booking.models import AlertSeverity, AlertStatus, StaffAlert

KIND_LABELS: dict[str, LazyString] = {
    "bp.urgent": _l("Blood pressure: urgent reading"),
    "bp.follow_up": _l("Blood pressure: follow-up visit"),
    "locker.forced_open": _l("Locker door forced open"),
    "locker.door_left_open": _l("Locker door left open"),
    "locker.jammed": _l("Locker lock jammed"),
    "device.offline": _l("Device offline"),
    "device.dead_letter": _l("Device messages refused"),
    "loan.overdue": _l("Loan overdue"),
    "lending.damaged": _l("Tool returned damaged"),
    "lending.parts_missing": _l("Tool returned with parts missing"),
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
    if prefix == "item" and key:
        return str(_l("Item no. %(id)s", id=key)), None
    if prefix == "loan" and key:
        return str(_l("Loan no. %(id)s", id=key)), None
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
        summary=alert.summary,
        subject_label=subject_label,
        subject_href=subject_href,
        created_at=alert.created_at,
        created_label=format_datetime(alert.created_at, "short"),
        age_label=age(alert.created_at, now),
        resolved_label=format_datetime(alert.resolved_at, "short") if alert.resolved_at else "",
        note=alert.note,
    )
