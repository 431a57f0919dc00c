"""Blood-pressure readings and the care health data needs: the site's settings, storing a
reading with its follow-up alerts for staff, and reading what is stored. Consent, the
terminal's pairing, the values' checks and retention are ``consent``, ``pairing``,
``values`` and ``retention`` beside this module.

Rules (issue 6):
- A reading is stored only for an identified resident (terminal card, or "measure now" at
  the kiosk) who has a consent in force; otherwise the terminal shows it and that is all.
- Values no body produces are refused with a reason.
- A reading in the ruleset's top level (grade 3) raises an urgent staff alert at once; high
  readings on several days for a resident who lives alone open a follow-up task.
- Withdrawing consent deletes the resident's readings; readings older than the site's
  retention period are purged by a scheduled job.
No function here logs a value: log lines leave the building.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core import audit
from booking.core.errors import (
    ConsentRequired,
    InvalidInput,
    NotFound,
)
from booking.core.models.sites import Site
from booking.health import values as health_values
from booking.health.classification import DEFAULT_RULESET, Classification, Ruleset, classify
from booking.health.models.consents import HealthConsent
from booking.health.models.readings import BpReading
from booking.health.models.settings import HealthSettings
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount

DEFAULT_RETENTION_DAYS = 730
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650

HISTORY_LIMIT = 30

# Follow-up for residents living alone: high readings on this many different days …
FOLLOW_UP_DAYS = 3
# … within this many days (the centre's days, in the site's time zone).
FOLLOW_UP_WINDOW_DAYS = 7

ALERT_URGENT = "bp.urgent"
ALERT_FOLLOW_UP = "bp.follow_up"
HEALTH_ALERT_KINDS = (ALERT_URGENT, ALERT_FOLLOW_UP)


def resident_subject(resident_id: int) -> str:
    return f"resident:{resident_id}"


# --- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    ruleset: Ruleset
    retention_days: int


def settings_for(session: Session, site_id: int) -> Settings:
    row = session.scalar(select(HealthSettings).where(HealthSettings.site_id == site_id))
    if row is None:
        return Settings(DEFAULT_RULESET, DEFAULT_RETENTION_DAYS)
    return Settings(Ruleset(row.ruleset), row.retention_days)


def configure(
    session: Session, staff: StaffAccount, *, ruleset: str, retention_days: int, now: datetime
) -> Settings:
    """Set the staff member's site's guideline and retention period (admins only)."""
    if not staff.is_admin:
        raise NotFound("no such page")
    try:
        chosen = Ruleset(ruleset)
    except ValueError:
        raise InvalidInput("unknown ruleset", field="ruleset") from None
    if not MIN_RETENTION_DAYS <= retention_days <= MAX_RETENTION_DAYS:
        raise InvalidInput(
            "retention out of range",
            field="retention_days",
            min=MIN_RETENTION_DAYS,
            max=MAX_RETENTION_DAYS,
        )
    row = session.scalar(
        select(HealthSettings).where(HealthSettings.site_id == staff.working_site_id)
    )
    if row is None:
        row = HealthSettings(site_id=staff.working_site_id)
        session.add(row)
    row.ruleset = chosen.value
    row.retention_days = retention_days
    row.updated_at = now
    audit.record_staff(
        session,
        staff,
        action="health.settings_changed",
        now=now,
        detail={"ruleset": chosen.value, "retention_days": retention_days},
    )
    return Settings(chosen, retention_days)


# --- consent in force ------------------------------------------------------------------------


def consent_in_force(session: Session, resident_id: int) -> HealthConsent | None:
    return session.scalar(
        select(HealthConsent)
        .where(HealthConsent.resident_id == resident_id, HealthConsent.withdrawn_at.is_(None))
        .order_by(HealthConsent.id.desc())
        .limit(1)
    )


# --- storing a reading ------------------------------------------------------------------------


def store_reading(
    session: Session,
    *,
    site_id: int,
    resident_id: int,
    device_id: str,
    identified_by: str,
    values: health_values.Values,
    now: datetime,
) -> BpReading:
    """Keep a reading for a consenting resident, classify it and apply the follow-up rules.

    Raises ConsentRequired without a consent in force. The same (device, measured_at) a
    second time returns the stored reading and raises no second alert.
    """
    if consent_in_force(session, resident_id) is None:
        raise ConsentRequired("no health-data consent", resident_id=resident_id)
    existing = session.scalar(
        select(BpReading).where(
            BpReading.device_id == device_id, BpReading.measured_at == values.measured_at
        )
    )
    if existing is not None:
        return existing
    settings = settings_for(session, site_id)
    found = classify(values.systolic, values.diastolic, settings.ruleset)
    reading = BpReading(
        resident_id=resident_id,
        site_id=site_id,
        device_id=device_id,
        identified_by=identified_by,
        systolic=values.systolic,
        diastolic=values.diastolic,
        mean_arterial_pressure=values.mean_arterial_pressure,
        pulse=values.pulse,
        device_unit=values.device_unit,
        flags=dict(values.flags),
        measured_at=values.measured_at,
        received_at=now,
        ruleset=found.ruleset.value,
        category=found.category,
        level=found.level,
        isolated_systolic=found.isolated_systolic,
    )
    session.add(reading)
    session.flush()
    _follow_up(session, reading, found, now)
    return reading


def classification_of(reading: BpReading) -> Classification:
    """The classification stored with the reading (never recomputed under today's ruleset)."""
    return Classification(
        Ruleset(reading.ruleset), reading.category, reading.level, reading.isolated_systolic
    )


def _follow_up(session: Session, reading: BpReading, found: Classification, now: datetime) -> None:
    subject = resident_subject(reading.resident_id)
    if found.is_urgent:
        # One open urgent alert per resident: a second very high reading while staff are
        # on their way is the same emergency.
        alerts.raise_alert(
            session,
            site_id=reading.site_id,
            kind=ALERT_URGENT,
            severity=AlertSeverity.URGENT,
            summary="Blood pressure measured: urgent, see the resident's health page now",
            now=now,
            subject=subject,
            resident_id=reading.resident_id,
            dedupe_key=f"{ALERT_URGENT}:{subject}",
        )
    if not found.is_high:
        return
    resident = session.get(Resident, reading.resident_id)
    if resident is None or not resident.lives_alone:
        return
    if high_days(session, reading.resident_id, reading.site_id, now) >= FOLLOW_UP_DAYS:
        alerts.raise_alert(
            session,
            site_id=reading.site_id,
            kind=ALERT_FOLLOW_UP,
            severity=AlertSeverity.WARNING,
            summary="Blood pressure measured high on several days: visit the resident",
            now=now,
            subject=subject,
            resident_id=reading.resident_id,
            dedupe_key=f"{ALERT_FOLLOW_UP}:{subject}",
        )


def high_days(session: Session, resident_id: int, site_id: int, now: datetime) -> int:
    """On how many of the site's last FOLLOW_UP_WINDOW_DAYS days the resident measured high."""
    site = session.get(Site, site_id)
    zone = ZoneInfo(site.timezone if site is not None else "Asia/Shanghai")
    today = now.astimezone(zone).date()
    since = now - timedelta(days=FOLLOW_UP_WINDOW_DAYS)
    moments = session.scalars(
        select(BpReading.measured_at).where(
            BpReading.resident_id == resident_id,
            BpReading.level >= 2,
            BpReading.measured_at >= since,
        )
    ).all()
    days = {m.astimezone(zone).date() for m in moments}
    first_day = today - timedelta(days=FOLLOW_UP_WINDOW_DAYS - 1)
    return len({d for d in days if d >= first_day})


# --- reading what is stored -------------------------------------------------------------------


def recent_readings(
    session: Session, resident_id: int, limit: int = HISTORY_LIMIT
) -> Sequence[BpReading]:
    """The resident's latest readings, newest first."""
    return session.scalars(
        select(BpReading)
        .where(BpReading.resident_id == resident_id)
        .order_by(BpReading.measured_at.desc(), BpReading.id.desc())
        .limit(limit)
    ).all()


def all_readings(session: Session, resident_id: int) -> Sequence[BpReading]:
    """Every stored reading, oldest first (the export)."""
    return session.scalars(
        select(BpReading)
        .where(BpReading.resident_id == resident_id)
        .order_by(BpReading.measured_at, BpReading.id)
    ).all()


def reading_of(session: Session, *, resident_id: int, reading_id: int) -> BpReading:
    reading = session.get(BpReading, reading_id)
    if reading is None or reading.resident_id != resident_id:
        raise NotFound("no such reading", reading_id=reading_id)
    return reading


def view_resident_health(
    session: Session, staff: StaffAccount, *, resident_id: int, now: datetime, action: str
) -> Resident:
    """A member of the staff member's site, with the view recorded in the audit log.

    ``action`` is "health.viewed" or "health.exported". A resident of another site is
    NotFound, like one who does not exist, and leaves no audit entry.
    """
    member = session.scalar(
        select(Resident)
        .join(ResidentMembership, ResidentMembership.resident_id == Resident.id)
        .where(Resident.id == resident_id, ResidentMembership.site_id == staff.working_site_id)
    )
    if member is None:
        raise NotFound("no such resident", resident_id=resident_id)
    audit.record_staff(
        session, staff, action=action, now=now, subject=resident_subject(resident_id)
    )
    return member


def health_alerts(
    session: Session,
    *,
    site_id: int,
    resident_id: int | None = None,
    include_resolved: bool = False,
    limit: int = 200,
) -> Sequence[StaffAlert]:
    """The site's blood-pressure alerts and follow-up tasks (of one resident if given):
    unresolved ones urgent first, then newest."""
    query = select(StaffAlert).where(
        StaffAlert.site_id == site_id, StaffAlert.kind.in_(HEALTH_ALERT_KINDS)
    )
    if resident_id is not None:
        query = query.where(StaffAlert.resident_id == resident_id)
    if not include_resolved:
        query = query.where(StaffAlert.status != AlertStatus.RESOLVED)
    found = session.scalars(query.order_by(StaffAlert.id.desc()).limit(limit)).all()
    rank = {AlertSeverity.URGENT: 0, AlertSeverity.WARNING: 1, AlertSeverity.INFO: 2}
    return sorted(found, key=lambda a: (a.status is AlertStatus.RESOLVED, rank[a.severity], -a.id))


def count_readings(session: Session, resident_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(BpReading).where(BpReading.resident_id == resident_id)
        )
        or 0
    )
