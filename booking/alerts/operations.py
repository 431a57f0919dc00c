"""Staff alerts: raised by any part of the centre, acknowledged and resolved in the console."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core import audit
from booking.core.errors import Conflict, InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.people.models.staff import StaffAccount

MAX_NOTE = 2000


def raise_alert(
    session: Session,
    *,
    site_id: int,
    kind: str,
    severity: AlertSeverity,
    summary: str,
    now: datetime,
    subject: str = "",
    resident_id: int | None = None,
    dedupe_key: str | None = None,
    params: Mapping[str, str | int] | None = None,
) -> StaffAlert:
    """Open an alert, or return the one still open for the same ``dedupe_key``.

    ``summary`` is the English sentence for logs and CSV; ``params`` are the words the console
    needs to say the same in the viewer's language (see ``kiosk.staff.alerts.words``).
    """
    if dedupe_key is not None:
        existing = _open_alert(session, site_id, dedupe_key)
        if existing is not None:
            return existing
    alert = StaffAlert(
        site_id=site_id,
        kind=kind,
        severity=severity,
        status=AlertStatus.OPEN,
        summary=summary[:300],
        subject=subject,
        resident_id=resident_id,
        dedupe_key=dedupe_key,
        params=dict(params or {}),
        created_at=now,
        changed_at=now,
    )
    if dedupe_key is None:
        session.add(alert)
        session.flush()
        return alert
    try:
        # Two processes raising the same alert at once (two schedulers, for a moment): the
        # unique index on open causes lets one insert; the other waits, then finds it.
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        existing = _open_alert(session, site_id, dedupe_key)
        if existing is None:  # resolved in between: nothing open to return, so raise anew
            raise
        return existing
    return alert


# Built once: devices raise alerts from their events, and building it per call cost more than
# running it (docs/benchmarks.md).
_OPEN_ALERT = select(StaffAlert).where(
    StaffAlert.site_id == bindparam("site_id"),
    StaffAlert.dedupe_key == bindparam("dedupe_key"),
    StaffAlert.status != AlertStatus.RESOLVED,
)


def _open_alert(session: Session, site_id: int, dedupe_key: str) -> StaffAlert | None:
    return session.scalar(_OPEN_ALERT, {"site_id": site_id, "dedupe_key": dedupe_key})


def resolve_by_itself(
    session: Session, *, site_id: int, dedupe_key: str, now: datetime, note: str
) -> StaffAlert | None:
    """Close the open alert of a cause that went away on its own (a device came back).

    No staff member resolved it, so none is named; the note says what happened, and the
    alert stays in the history with the time it was open.
    """
    alert = _open_alert(session, site_id, dedupe_key)
    if alert is None:
        return None
    alert.resolve(now=now)
    line = f"[{_local_minute(session, alert, now)}] {note}"
    alert.note = f"{alert.note}\n{line}" if alert.note else line
    alert.changed_at = now
    audit.record(
        session,
        action="alert.resolved_by_itself",
        actor="system",
        now=now,
        site_id=site_id,
        subject=f"alert:{alert.id}",
    )
    return alert


def _alert_for(session: Session, staff: StaffAccount, alert_id: int) -> StaffAlert:
    alert = session.get(StaffAlert, alert_id, with_for_update=True)
    if alert is None or alert.site_id != staff.working_site_id:
        raise NotFound("no such alert", alert_id=alert_id)
    return alert


def acknowledge(
    session: Session, staff: StaffAccount, alert_id: int, *, now: datetime, note: str = ""
) -> StaffAlert:
    alert = _alert_for(session, staff, alert_id)
    if alert.status is AlertStatus.RESOLVED:
        raise Conflict("the alert is already resolved", alert_id=alert_id)
    alert.acknowledge(staff_id=staff.id, now=now)
    _append_note(session, alert, staff, note, now)
    alert.changed_at = now
    audit.record_staff(
        session, staff, action="alert.acknowledged", now=now, subject=f"alert:{alert.id}"
    )
    return alert


def resolve(
    session: Session, staff: StaffAccount, alert_id: int, *, now: datetime, note: str
) -> StaffAlert:
    """Close an alert; a note saying what was done is required."""
    if not note.strip():
        raise InvalidInput("say what was done", field="note")
    alert = _alert_for(session, staff, alert_id)
    if alert.status is AlertStatus.RESOLVED:
        raise Conflict("the alert is already resolved", alert_id=alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = now
        alert.acknowledged_by_staff_id = staff.id
    alert.resolve(now=now, staff_id=staff.id)
    _append_note(session, alert, staff, note, now)
    alert.changed_at = now
    audit.record_staff(
        session, staff, action="alert.resolved", now=now, subject=f"alert:{alert.id}"
    )
    return alert


def _local_minute(session: Session, alert: StaffAlert, now: datetime) -> str:
    """When a note was written, on the centre's clock as everything else the console shows:
    notes once said "01:09 UTC" beside an acknowledgement shown as 09:09."""
    zone = ZoneInfo(session.get_one(Site, alert.site_id).timezone)
    return f"{now.astimezone(zone):%Y-%m-%d %H:%M}"


def _append_note(
    session: Session, alert: StaffAlert, staff: StaffAccount, note: str, now: datetime
) -> None:
    note = note.strip()
    if not note:
        return
    if len(note) > MAX_NOTE:
        raise InvalidInput("the note is too long", field="note", max=MAX_NOTE)
    # The name colleagues know (孙丽), as the console shows staff everywhere else.
    line = f"[{_local_minute(session, alert, now)} {staff.display_name}] {note}"
    alert.note = f"{alert.note}\n{line}" if alert.note else line


def open_alerts(
    session: Session, *, site_id: int, after_id: int = 0, limit: int = 200
) -> Sequence[StaffAlert]:
    """Unresolved alerts, urgent first then newest; ``after_id`` for a live feed's catch-up."""
    severity_rank = {AlertSeverity.URGENT: 0, AlertSeverity.WARNING: 1, AlertSeverity.INFO: 2}
    found = session.scalars(
        select(StaffAlert)
        .where(
            StaffAlert.site_id == site_id,
            StaffAlert.status != AlertStatus.RESOLVED,
            StaffAlert.id > after_id,
        )
        .order_by(StaffAlert.id.desc())
        .limit(limit)
    ).all()
    return sorted(found, key=lambda a: (severity_rank[a.severity], -a.id))
