"""Changing an enrolled resident's details at the desk: the same checks as enrolment, the
phone still one person's across every centre, and an audit entry naming what changed (never
the old or new values: they are personal data, and the audit log is kept longer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.errors import Conflict
from booking.people.account_errors import AccountStateWrong
from booking.people.enrolment import ELDERLY_AGE, EnrolmentDetails, check_details
from booking.people.models.residents import Resident
from booking.people.residents import get_member


class PhoneInUse(Conflict):
    """Another resident (here or at another centre) signs in with this phone."""

    code = "phone_in_use"


def current_details(resident: Resident) -> EnrolmentDetails:
    """What the desk's form starts from."""
    return EnrolmentDetails(
        name=resident.name,
        phone=resident.phone,
        birth_year=resident.birth_year,
        building=resident.building or "",
        unit=resident.unit or "",
        room=resident.room or "",
        lives_alone=resident.lives_alone,
        emergency_contact_name=resident.emergency_contact_name or "",
        emergency_contact_phone=resident.emergency_contact_phone or "",
        preferred_language=resident.preferred_language,
    )


def update_details(
    session: Session,
    *,
    site_id: int,
    resident_id: int,
    details: EnrolmentDetails,
    now: datetime,
    actor: str,
    staff_id: int | None = None,
) -> list[str]:
    """Set a member's details to ``details`` (an empty field clears it); return the names of
    the fields that changed. :class:`InvalidInput` as enrolment gives it,
    :class:`PhoneInUse`, :class:`AccountStateWrong` for a deactivated account, and
    :class:`NotFound` for someone who is not a member of ``site_id``."""
    resident = get_member(session, site_id=site_id, resident_id=resident_id)
    if not resident.is_active:
        raise AccountStateWrong("a deactivated account's details are not changed")
    d = check_details(details, now=now)
    if d.phone != resident.phone:
        taken = session.scalar(
            select(Resident.id).where(Resident.phone == d.phone, Resident.id != resident.id)
        )
        if taken is not None:
            raise PhoneInUse("another resident signs in with this phone", field="phone")
    values: dict[str, object] = {
        "name": d.name,
        "phone": d.phone,
        "birth_year": d.birth_year,
        "building": d.building or None,
        "unit": d.unit or None,
        "room": d.room or None,
        "lives_alone": d.lives_alone,
        "emergency_contact_name": d.emergency_contact_name or None,
        "emergency_contact_phone": d.emergency_contact_phone or None,
        "preferred_language": d.preferred_language,
    }
    if d.birth_year is not None:
        # Without a year the desk's earlier "elderly" stands (residents enrolled before it).
        values["is_elderly"] = now.year - d.birth_year >= ELDERLY_AGE
    changed = resident.change_details(values)
    if changed:
        audit.record(
            session, action="resident.details_changed", actor=actor, staff_id=staff_id,
            site_id=site_id, now=now, subject=f"resident:{resident.id}",
            detail={"fields": changed},
        )  # fmt: skip
    return changed
