"""Blood-pressure readings and the care health data needs: consent, identification at the
terminal, checks on values, follow-up alerts for staff, retention.

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

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core import audit
from booking.core.errors import (
    Conflict,
    ConsentRequired,
    ImpossibleReading,
    InvalidInput,
    NotFound,
    TerminalBusy,
)
from booking.core.models.sites import Site
from booking.health.classification import DEFAULT_RULESET, Classification, Ruleset, classify
from booking.health.models.readings import (
    BpReading,
    ConsentChannel,
    HealthConsent,
    HealthSettings,
    PairingStatus,
    TerminalPairing,
)
from booking.people.models.residents import Resident, ResidentMembership
from booking.people.models.staff import StaffAccount

log = logging.getLogger(__name__)

# The version of the consent notice the kiosk shows; a new wording gets a new version.
NOTICE_VERSION = "2026-11-v1"

PAIRING_WINDOW = timedelta(minutes=3)
# A measurement that started inside the window may finish after it (a cuff takes ~40 s).
MEASURE_GRACE = timedelta(minutes=2)

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

# Physiological limits (mmHg, bpm), as in docs/protocol.md §8.
SYSTOLIC_RANGE = (40.0, 300.0)
DIASTOLIC_RANGE = (20.0, 200.0)
PULSE_RANGE = (20, 250)
MMHG_PER_KPA = 7.50062
FLAG_NAMES = (
    "body_movement",
    "cuff_too_loose",
    "irregular_pulse",
    "pulse_out_of_range",
    "improper_position",
)


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
    row = session.scalar(select(HealthSettings).where(HealthSettings.site_id == staff.site_id))
    if row is None:
        row = HealthSettings(site_id=staff.site_id)
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


# --- consent ----------------------------------------------------------------------------------


def consent_in_force(session: Session, resident_id: int) -> HealthConsent | None:
    return session.scalar(
        select(HealthConsent)
        .where(HealthConsent.resident_id == resident_id, HealthConsent.withdrawn_at.is_(None))
        .order_by(HealthConsent.id.desc())
        .limit(1)
    )


def give_consent(
    session: Session,
    *,
    resident_id: int,
    site_id: int,
    channel: ConsentChannel,
    now: datetime,
    notice_version: str = NOTICE_VERSION,
    actor: str | None = None,
    staff_id: int | None = None,
    given_at: datetime | None = None,
) -> HealthConsent:
    """Record the resident's consent (the one in force if there is one already).

    ``given_at`` is when the resident agreed if that was before ``now`` (a paper form
    recorded later); the audit entry is dated ``now``, when it was recorded.
    """
    existing = consent_in_force(session, resident_id)
    if existing is not None:
        return existing
    consent = HealthConsent(
        resident_id=resident_id,
        site_id=site_id,
        given_at=given_at or now,
        channel=channel,
        notice_version=notice_version,
    )
    session.add(consent)
    session.flush()
    detail = {"channel": channel.value, "notice_version": notice_version}
    if given_at is not None:
        detail["given_at"] = given_at.isoformat()
    audit.record(
        session,
        action="health.consent_given",
        actor=actor or resident_subject(resident_id),
        now=now,
        site_id=site_id,
        subject=resident_subject(resident_id),
        staff_id=staff_id,
        detail=detail,
    )
    return consent


def withdraw_consent(
    session: Session,
    *,
    resident_id: int,
    site_id: int,
    channel: ConsentChannel,
    now: datetime,
    actor: str | None = None,
    staff_id: int | None = None,
) -> int:
    """Withdraw the consent in force and delete every stored reading (PIPL art. 47).

    Returns how many readings were deleted. Open pairings end too, so no later reading
    can land. Withdrawing without a consent in force is a no-op returning 0.
    """
    consent = consent_in_force(session, resident_id)
    if consent is None:
        return 0
    consent.withdrawn_at = now
    consent.withdrawn_channel = channel
    _close_open_pairings(session, resident_id=resident_id, now=now)
    deleted = delete_readings(session, resident_id=resident_id)
    detail: dict[str, Any] = {"channel": channel.value, "readings_deleted": deleted}
    resident = session.get(Resident, resident_id)
    if resident is not None and resident.card_id:
        for other in _other_health_data:
            # Named in the audit only when there was something to delete.
            if deleted_elsewhere := other.purge_card(session, resident.card_id):
                detail[f"{other.name}_deleted"] = deleted_elsewhere
    audit.record(
        session,
        action="health.consent_withdrawn",
        actor=actor or resident_subject(resident_id),
        now=now,
        site_id=site_id,
        subject=resident_subject(resident_id),
        staff_id=staff_id,
        detail=detail,
    )
    return deleted


# How a resident's withdrawal may reach staff. Consent recorded by staff is paper only: the
# separate consent sensitive data needs (PIPL art. 29) is a signature, not a phone call.
STAFF_WITHDRAWAL_CHANNELS = (ConsentChannel.PAPER, ConsentChannel.PHONE)


def check_signed_on(signed_on: date, *, today: date, joined_on: date) -> None:
    """A paper form's date: not after today, not before the resident joined the centre."""
    if signed_on > today:
        raise InvalidInput("signed in the future", field="signed_on", reason="future")
    if signed_on < joined_on:
        raise InvalidInput(
            "signed before the resident joined",
            field="signed_on",
            reason="before_membership",
            joined_on=joined_on.isoformat(),
        )


def record_paper_consent(
    session: Session, staff: StaffAccount, *, resident_id: int, signed_on: date, now: datetime
) -> HealthConsent:
    """Staff record the paper consent form a member of their site signed on ``signed_on``.

    NotFound for a resident of another site; InvalidInput for a date ``check_signed_on``
    refuses; Conflict when a consent is already in force (that one stands unchanged).
    """
    membership = _membership(session, site_id=staff.site_id, resident_id=resident_id)
    zone = _zone(session, staff.site_id)
    today = now.astimezone(zone).date()
    check_signed_on(signed_on, today=today, joined_on=membership.joined_at.astimezone(zone).date())
    if consent_in_force(session, resident_id) is not None:
        raise Conflict("a consent is already in force", resident_id=resident_id)
    # A form signed on an earlier day was agreed that day; its hour is not known.
    given_at = None if signed_on == today else datetime.combine(signed_on, time(), zone)
    return give_consent(
        session,
        resident_id=resident_id,
        site_id=staff.site_id,
        channel=ConsentChannel.PAPER,
        now=now,
        notice_version=NOTICE_VERSION,
        actor=audit.staff_actor(staff),
        staff_id=staff.id,
        given_at=given_at,
    )


def record_withdrawal(
    session: Session,
    staff: StaffAccount,
    *,
    resident_id: int,
    channel: ConsentChannel,
    now: datetime,
) -> int:
    """Staff record a withdrawal a member of their site made on paper or by phone.

    Deletes every stored reading and returns how many. NotFound for a resident of another
    site; InvalidInput for another channel; Conflict when no consent is in force.
    """
    _membership(session, site_id=staff.site_id, resident_id=resident_id)
    if channel not in STAFF_WITHDRAWAL_CHANNELS:
        raise InvalidInput("not a channel staff record", field="channel")
    if consent_in_force(session, resident_id) is None:
        raise Conflict("no consent in force", resident_id=resident_id)
    return withdraw_consent(
        session,
        resident_id=resident_id,
        site_id=staff.site_id,
        channel=channel,
        now=now,
        actor=audit.staff_actor(staff),
        staff_id=staff.id,
    )


def _membership(session: Session, *, site_id: int, resident_id: int) -> ResidentMembership:
    membership = session.scalar(
        select(ResidentMembership).where(
            ResidentMembership.resident_id == resident_id, ResidentMembership.site_id == site_id
        )
    )
    if membership is None:
        raise NotFound("no such resident", resident_id=resident_id)
    return membership


def _zone(session: Session, site_id: int) -> ZoneInfo:
    site = session.get(Site, site_id)
    return ZoneInfo(site.timezone if site is not None else "Asia/Shanghai")


def delete_readings(session: Session, *, resident_id: int) -> int:
    # Pairings point at readings: unhook them first (SQLite does not enforce SET NULL
    # unless foreign keys are on, and the answer must not depend on that).
    session.execute(
        update(TerminalPairing)
        .where(TerminalPairing.resident_id == resident_id, TerminalPairing.reading_id.is_not(None))
        .values(reading_id=None)
    )
    result = session.execute(delete(BpReading).where(BpReading.resident_id == resident_id))
    return int(getattr(result, "rowcount", 0) or 0)


# --- values -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Values:
    """A measurement in mmHg, checked: what gets stored and classified."""

    systolic: float
    diastolic: float
    mean_arterial_pressure: float
    pulse: int | None
    device_unit: str
    flags: Mapping[str, bool]
    measured_at: datetime


def check_values(
    *,
    systolic: float,
    diastolic: float,
    mean_arterial_pressure: float,
    unit: str,
    pulse: int | None,
    flags: Mapping[str, Any],
    measured_at: datetime,
) -> Values:
    """Convert to mmHg and refuse what no body produces, with a reason code."""
    if unit == "kPa":
        factor = MMHG_PER_KPA
    elif unit == "mmHg":
        factor = 1.0
    else:
        raise ImpossibleReading("unknown unit", reason="unknown_unit")
    numbers = (systolic, diastolic, mean_arterial_pressure)
    if any(isinstance(n, bool) or not isinstance(n, int | float) for n in numbers):
        raise ImpossibleReading("not a number", reason="not_a_number")
    sys_mmhg = round(systolic * factor, 1)
    dia_mmhg = round(diastolic * factor, 1)
    map_mmhg = round(mean_arterial_pressure * factor, 1)
    if not SYSTOLIC_RANGE[0] <= sys_mmhg <= SYSTOLIC_RANGE[1]:
        raise ImpossibleReading("systolic outside 40–300 mmHg", reason="systolic_out_of_range")
    if not DIASTOLIC_RANGE[0] <= dia_mmhg <= DIASTOLIC_RANGE[1]:
        raise ImpossibleReading("diastolic outside 20–200 mmHg", reason="diastolic_out_of_range")
    if sys_mmhg <= dia_mmhg:
        raise ImpossibleReading(
            "systolic not above diastolic", reason="systolic_not_above_diastolic"
        )
    if not dia_mmhg <= map_mmhg <= sys_mmhg:
        raise ImpossibleReading(
            "mean pressure not between diastolic and systolic", reason="mean_pressure_impossible"
        )
    if pulse is not None and (
        isinstance(pulse, bool)
        or not isinstance(pulse, int)
        or not PULSE_RANGE[0] <= pulse <= PULSE_RANGE[1]
    ):
        raise ImpossibleReading("pulse outside 20–250 bpm", reason="pulse_out_of_range")
    if set(flags) != set(FLAG_NAMES) or not all(isinstance(v, bool) for v in flags.values()):
        raise ImpossibleReading("status flags incomplete", reason="flags_invalid")
    return Values(
        systolic=sys_mmhg,
        diastolic=dia_mmhg,
        mean_arterial_pressure=map_mmhg,
        pulse=pulse,
        device_unit=unit,
        flags={name: bool(flags[name]) for name in FLAG_NAMES},
        measured_at=measured_at,
    )


# --- storing a reading ------------------------------------------------------------------------


def store_reading(
    session: Session,
    *,
    site_id: int,
    resident_id: int,
    device_id: str,
    identified_by: str,
    values: Values,
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
        .where(Resident.id == resident_id, ResidentMembership.site_id == staff.site_id)
    )
    if member is None:
        raise NotFound("no such resident", resident_id=resident_id)
    audit.record_staff(
        session, staff, action=action, now=now, subject=resident_subject(resident_id)
    )
    return member


# --- retention --------------------------------------------------------------------------------


def purge_expired(session: Session, now: datetime) -> int:
    """Delete readings older than their site's retention period; returns how many."""
    total = 0
    for site_id in session.scalars(select(Site.id)).all():
        cutoff = now - timedelta(days=settings_for(session, site_id).retention_days)
        old = select(BpReading.id).where(
            BpReading.site_id == site_id, BpReading.measured_at < cutoff
        )
        session.execute(
            update(TerminalPairing)
            .where(TerminalPairing.reading_id.in_(old))
            .values(reading_id=None)
        )
        result = session.execute(
            delete(BpReading).where(BpReading.site_id == site_id, BpReading.measured_at < cutoff)
        )
        purged = int(getattr(result, "rowcount", 0) or 0)
        others = {o.name: o.purge_before(session, site_id, cutoff) for o in _other_health_data}
        others = {name: n for name, n in others.items() if n}
        if purged or others:
            audit.record(
                session,
                action="health.readings_purged",
                actor="system:retention",
                now=now,
                site_id=site_id,
                detail={"readings": purged, "older_than": cutoff.isoformat(), **others},
            )
        total += purged
    # Held elsewhere without a site of ours (a message naming an unknown site): the default.
    default_cutoff = now - timedelta(days=DEFAULT_RETENTION_DAYS)
    for other in _other_health_data:
        other.purge_before(session, None, default_cutoff)
    return total


@dataclass(frozen=True)
class OtherHealthData:
    """Health data another part keeps outside the readings (the device side's refused
    messages): purged with them, by card on a withdrawal and by age on retention.

    ``purge_card(session, card_id)`` and ``purge_before(session, site_id or None, cutoff)``
    delete and return how many rows went.
    """

    name: str
    purge_card: Callable[[Session, str], int]
    purge_before: Callable[[Session, int | None, datetime], int]


# Registered by the parts that hold such data (booking imports none of them).
_other_health_data: list[OtherHealthData] = []


def register_other_health_data(other: OtherHealthData) -> None:
    """Let withdrawals and the retention purge reach ``other`` too (once per name)."""
    _other_health_data[:] = [o for o in _other_health_data if o.name != other.name]
    _other_health_data.append(other)


# --- the terminal: pairing and identification -------------------------------------------------


def start_pairing(
    session: Session, *, site_id: int, resident_id: int, device_id: str, now: datetime
) -> TerminalPairing:
    """ "Measure now": pair the resident with the terminal for its next reading.

    The caller checks that ``device_id`` is a blood-pressure terminal of the site. The
    resident's own open pairing is returned (and the window restarted); another
    resident's open pairing makes the terminal busy.
    """
    if consent_in_force(session, resident_id) is None:
        raise ConsentRequired("no health-data consent", resident_id=resident_id)
    for pairing in _open_pairings(session, device_id, now):
        if pairing.resident_id != resident_id:
            raise TerminalBusy("the terminal is in use", device_id=device_id)
        if pairing.status is PairingStatus.WAITING:
            pairing.created_at = now
            pairing.expires_at = now + PAIRING_WINDOW
        return pairing
    _close_open_pairings(session, resident_id=resident_id, now=now)
    pairing = TerminalPairing(
        site_id=site_id,
        device_id=device_id,
        resident_id=resident_id,
        status=PairingStatus.WAITING,
        created_at=now,
        expires_at=now + PAIRING_WINDOW,
    )
    session.add(pairing)
    session.flush()
    return pairing


def pairing_of(
    session: Session, *, resident_id: int, pairing_id: int, now: datetime
) -> TerminalPairing:
    """The resident's pairing, marked expired if its window has passed."""
    pairing = session.get(TerminalPairing, pairing_id)
    if pairing is None or pairing.resident_id != resident_id:
        raise NotFound("no such pairing", pairing_id=pairing_id)
    _expire_if_over(pairing, now)
    return pairing


def cancel_pairing(
    session: Session, *, resident_id: int, pairing_id: int, now: datetime
) -> TerminalPairing:
    pairing = pairing_of(session, resident_id=resident_id, pairing_id=pairing_id, now=now)
    if pairing.status.is_open:
        _finish(pairing, PairingStatus.CANCELLED, now)
    return pairing


def _is_live(pairing: TerminalPairing, now: datetime) -> bool:
    if pairing.status is PairingStatus.MEASURING and pairing.measuring_since is not None:
        return now < max(pairing.expires_at, pairing.measuring_since + MEASURE_GRACE)
    return pairing.status is PairingStatus.WAITING and now < pairing.expires_at


def _expire_if_over(pairing: TerminalPairing, now: datetime) -> None:
    if pairing.status.is_open and not _is_live(pairing, now):
        _finish(pairing, PairingStatus.EXPIRED, now)


def _finish(
    pairing: TerminalPairing, status: PairingStatus, now: datetime, failure: str | None = None
) -> None:
    pairing.finish(status, now, failure)


def _open_pairings(session: Session, device_id: str, now: datetime) -> list[TerminalPairing]:
    """The terminal's live pairing (at most one), expiring the ones whose window passed."""
    rows = session.scalars(
        select(TerminalPairing)
        .where(
            TerminalPairing.device_id == device_id,
            TerminalPairing.status.in_([PairingStatus.WAITING, PairingStatus.MEASURING]),
        )
        .order_by(TerminalPairing.id.desc())
    ).all()
    live = []
    for pairing in rows:
        _expire_if_over(pairing, now)
        if pairing.status.is_open:
            live.append(pairing)
    return live


def _close_open_pairings(session: Session, *, resident_id: int, now: datetime) -> None:
    for pairing in session.scalars(
        select(TerminalPairing).where(
            TerminalPairing.resident_id == resident_id,
            TerminalPairing.status.in_([PairingStatus.WAITING, PairingStatus.MEASURING]),
        )
    ):
        _finish(pairing, PairingStatus.CANCELLED, now)


def resident_by_card(session: Session, *, site_id: int, card_id: str) -> Resident | None:
    """The member of the site holding that card, if any."""
    return session.scalar(
        select(Resident)
        .join(ResidentMembership, ResidentMembership.resident_id == Resident.id)
        .where(Resident.card_id == card_id, ResidentMembership.site_id == site_id)
    )


def card_read(
    session: Session, *, site_id: int, device_id: str, card_id: str, now: datetime
) -> Resident | None:
    """A card at the terminal: the resident it identifies (None if nobody here holds it).

    A kiosk pairing of someone else ends: the next reading belongs to the card's holder
    (or to nobody), and the resident waiting at the kiosk must be told so.
    """
    resident = resident_by_card(session, site_id=site_id, card_id=card_id)
    for pairing in _open_pairings(session, device_id, now):
        if resident is None or pairing.resident_id != resident.id:
            _finish(pairing, PairingStatus.CANCELLED, now, failure="other_card")
    return resident


def measurement_started(session: Session, *, device_id: str, now: datetime) -> None:
    for pairing in _open_pairings(session, device_id, now):
        pairing.start_measuring(now)


def measurement_failed(session: Session, *, device_id: str, code: str, now: datetime) -> None:
    for pairing in _open_pairings(session, device_id, now):
        _finish(pairing, PairingStatus.FAILED, now, failure=code[:40])


@dataclass(frozen=True)
class ReadingOutcome:
    """What became of a terminal's reading. ``stored`` is None unless it was kept."""

    result: str  # "stored", "unidentified", "no_consent", "impossible"
    stored: BpReading | None = None
    reason: str | None = None


def reading_received(
    session: Session,
    *,
    site_id: int,
    device_id: str,
    card_id: str | None,
    now: datetime,
    **raw: Any,
) -> ReadingOutcome:
    """A terminal's reading: identify whose it is, check it, keep it if allowed.

    ``raw`` holds the protocol's reading fields (systolic, diastolic, mean_arterial_pressure,
    unit, pulse, flags, measured_at). A card on the reading decides alone; without a card,
    the live kiosk pairing of the terminal does.
    """
    pairings = _open_pairings(session, device_id, now)
    pairing = pairings[0] if pairings else None
    resident_id: int | None = None
    identified_by = ""
    if card_id is not None:
        holder = resident_by_card(session, site_id=site_id, card_id=card_id)
        if holder is not None:
            resident_id, identified_by = holder.id, "card"
        if pairing is not None and pairing.resident_id != resident_id:
            _finish(pairing, PairingStatus.CANCELLED, now, failure="other_card")
            pairing = None
    elif pairing is not None:
        resident_id, identified_by = pairing.resident_id, "kiosk"

    try:
        values = check_values(
            systolic=raw["systolic"],
            diastolic=raw["diastolic"],
            mean_arterial_pressure=raw["mean_arterial_pressure"],
            unit=raw["unit"],
            pulse=raw["pulse"],
            flags=raw["flags"],
            measured_at=raw["measured_at"],
        )
    except ImpossibleReading as refused:
        reason = str(refused.details.get("reason", "impossible"))
        if pairing is not None:
            _finish(pairing, PairingStatus.FAILED, now, failure="impossible_reading")
        log.info("reading from %s refused: %s", device_id, reason)
        return ReadingOutcome("impossible", reason=reason)

    if resident_id is None:
        return ReadingOutcome("unidentified")
    try:
        reading = store_reading(
            session,
            site_id=site_id,
            resident_id=resident_id,
            device_id=device_id,
            identified_by=identified_by,
            values=values,
            now=now,
        )
    except ConsentRequired:
        if pairing is not None:
            _finish(pairing, PairingStatus.FAILED, now, failure="no_consent")
        return ReadingOutcome("no_consent")
    if pairing is not None:
        _finish(pairing, PairingStatus.DONE, now)
        pairing.reading_id = reading.id
    return ReadingOutcome("stored", stored=reading)


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
