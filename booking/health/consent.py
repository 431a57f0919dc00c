"""Health-data consent: given at the kiosk or on paper, withdrawn by the resident or for them
(which deletes their readings and the health data held elsewhere), audited each time."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
)
from booking.core.models.sites import Site
from booking.health import pairing as health_pairing
from booking.health import retention as health_retention
from booking.health.models.consents import ConsentChannel, HealthConsent
from booking.health.models.pairings import TerminalPairing
from booking.health.models.readings import BpReading
from booking.health.operations import (
    consent_in_force,
    resident_subject,
)
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount

# The version of the consent notice the kiosk shows; a new wording gets a new version.
NOTICE_VERSION = "2026-11-v1"


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
    consent.withdraw(channel=channel, now=now)
    health_pairing.close_open_pairings(session, resident_id=resident_id, now=now)
    deleted = delete_readings(session, resident_id=resident_id)
    detail: dict[str, Any] = {"channel": channel.value, "readings_deleted": deleted}
    resident = session.get(Resident, resident_id)
    if resident is not None and resident.card_id:
        for other in health_retention.OTHER_HEALTH_DATA:
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
    membership = _membership(session, site_id=staff.working_site_id, resident_id=resident_id)
    zone = _zone(session, staff.working_site_id)
    today = now.astimezone(zone).date()
    check_signed_on(signed_on, today=today, joined_on=membership.joined_at.astimezone(zone).date())
    if consent_in_force(session, resident_id) is not None:
        raise Conflict("a consent is already in force", resident_id=resident_id)
    # A form signed on an earlier day was agreed that day; its hour is not known.
    given_at = None if signed_on == today else datetime.combine(signed_on, time(), zone)
    return give_consent(
        session,
        resident_id=resident_id,
        site_id=staff.working_site_id,
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
    _membership(session, site_id=staff.working_site_id, resident_id=resident_id)
    if channel not in STAFF_WITHDRAWAL_CHANNELS:
        raise InvalidInput("not a channel staff record", field="channel")
    if consent_in_force(session, resident_id) is None:
        raise Conflict("no consent in force", resident_id=resident_id)
    return withdraw_consent(
        session,
        resident_id=resident_id,
        site_id=staff.working_site_id,
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
