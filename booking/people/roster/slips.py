"""Slips for residents who have no PIN yet: each printed with a new one-time code.

A code lives a day (booking.people.one_time_codes), so slips are printed as they go out, a
building or a few dozen at a time, not 12,000 on the day of the import; and each code is an
argon2id hash, a fraction of a second, which a page of a few dozen can afford. A resident
whose code is still live is left out (their slip is out there: printing another would void
it); one whose code expired unused comes round again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from booking.people import one_time_codes
from booking.people.models.memberships import ResidentMembership
from booking.people.models.resident_codes import CodePurpose, ResidentCode
from booking.people.models.residents import Resident

MAX_SLIPS = 48  # six sheets of eight: what a page's codes can be hashed for in seconds


@dataclass(frozen=True)
class Slip:
    name: str
    phone: str
    address: str
    code: one_time_codes.IssuedCode


def _awaiting(site_id: int, now: datetime) -> Select[Resident]:
    live_code = exists().where(
        and_(
            ResidentCode.resident_id == Resident.id,
            ResidentCode.used_at.is_(None),
            ResidentCode.voided_at.is_(None),
            ResidentCode.expires_at > now,
        )
    )
    return (
        select(Resident)
        .join(ResidentMembership)
        .where(ResidentMembership.site_id == site_id, Resident.pin_hash.is_(None), ~live_code)
    )


def awaiting_by_building(session: Session, *, site_id: int, now: datetime) -> list[tuple[str, int]]:
    """How many members of ``site_id`` wait for a slip, by building ("" for none given)."""
    sub = _awaiting(site_id, now).subquery()
    building = func.coalesce(sub.c.building, "")
    rows = session.execute(select(building, func.count()).group_by(building).order_by(building))
    return [(name, int(count)) for name, count in rows]


def issue_slips(
    session: Session,
    *,
    site_id: int,
    now: datetime,
    actor: str,
    staff_id: int | None = None,
    building: str | None = None,
    limit: int = MAX_SLIPS,
) -> list[Slip]:
    """New enrolment codes for up to ``limit`` members of ``site_id`` (of one building, if
    given) who have no PIN and no live code, by address; each issued and audited by
    booking.people.one_time_codes. The codes exist in clear only in what this returns."""
    query = _awaiting(site_id, now)
    if building is not None:
        query = query.where(func.coalesce(Resident.building, "") == building)
    chosen = list(
        session.scalars(
            query.order_by(Resident.building, Resident.unit, Resident.room, Resident.name,
                           Resident.id).limit(max(0, min(limit, MAX_SLIPS)))
        )
    )  # fmt: skip
    slips = []
    for resident in chosen:
        code = one_time_codes.issue_code(
            session, resident_id=resident.id, site_id=site_id, purpose=CodePurpose.ENROL,
            now=now, actor=actor, staff_id=staff_id,
        )  # fmt: skip
        slips.append(Slip(resident.name, resident.phone, resident.address, code))
    return slips
