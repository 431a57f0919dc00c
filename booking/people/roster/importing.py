"""Importing the rows a dry run accepted, in the caller's one transaction.

Each resident is made as enrolment makes one (booking.people.enrolment: the same details
filled, the same 老年人 flag, no PIN until a one-time code), and audited as enrolled, but the
whole file goes in a few batched statements: SQLAlchemy sends the new rows as multi-row
INSERT … RETURNING, so 12,000 residents cost seconds, not the minutes one flush per
resident would.

No one-time code is issued here. A code is an argon2id hash (booking.people.one_time_codes),
a fifth of a second each (docs/benchmarks.md): 12,000 would take most of an hour, and they
would expire after a day while slips go out building by building over weeks. Codes are
issued when their slips are printed (:mod:`booking.people.roster.slips`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from booking.core import audit
from booking.core.models.audit import AuditEntry
from booking.people.enrolment import fill_details
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.roster.checking import RosterReport

_IN_CHUNK = 500
_BATCH = 2000
_RESIDENT_COLUMNS = frozenset(column.key for column in Resident.__table__.columns) - {"id"}


@dataclass(frozen=True)
class ImportResult:
    created: int
    joined: int
    rejected: int
    resident_ids: list[int]


def import_roster(
    session: Session,
    *,
    site_id: int,
    report: RosterReport,
    now: datetime,
    actor: str,
    staff_id: int | None = None,
    file_digest: str = "",
) -> ImportResult:
    """Enrol every accepted row of ``report`` at ``site_id``. The report must come from
    :func:`booking.people.roster.checking.check_roster` in this same transaction, so no
    one was enrolled in between; the rejected rows are left out."""
    joining = [row for row in report.accepted if row.joins_resident_id is not None]
    existing: dict[int, Resident] = {}
    ids = [row.joins_resident_id for row in joining if row.joins_resident_id is not None]
    for start in range(0, len(ids), _IN_CHUNK):
        for resident in session.scalars(
            select(Resident).where(Resident.id.in_(ids[start : start + _IN_CHUNK]))
        ):
            existing[resident.id] = resident
    for row in joining:
        resident = existing[row.joins_resident_id]  # type: ignore[index]
        fill_details(resident, row.details, now=now, overwrite=False)

    # Each new resident is filled by enrolment's own code, on an object never added to the
    # session; only its column values go, in batched INSERT … RETURNING.
    new_rows = [row for row in report.accepted if row.joins_resident_id is None]
    values = []
    for row in new_rows:
        resident = Resident(
            name=row.details.name, phone=row.details.phone, pin_hash=None, created_at=now
        )
        fill_details(resident, row.details, now=now, overwrite=True)
        values.append({key: value for key, value in inspect(resident).dict.items()
                       if key in _RESIDENT_COLUMNS})  # fmt: skip
    new_ids: list[int] = []
    for start in range(0, len(values), _BATCH):
        new_ids += session.scalars(
            insert(Resident).returning(Resident.id, sort_by_parameter_order=True),
            values[start : start + _BATCH],
        ).all()

    made = [
        *((resident_id, row) for resident_id, row in zip(new_ids, new_rows, strict=True)),
        *((row.joins_resident_id, row) for row in joining),
    ]
    digest = file_digest[:16]
    memberships = [
        {"resident_id": resident_id, "site_id": site_id, "joined_at": now}
        for resident_id, _ in made
    ]
    entries = []
    for resident_id, row in made:
        detail: dict[str, object] = {
            "joined_existing": row.joins_resident_id is not None,
            "roster": digest,
            "row": row.number,
        }
        if row.namesake_ids:
            detail["confirmed_different_from"] = list(row.namesake_ids)
        entries.append(
            {"site_id": site_id, "at": now, "actor": actor, "staff_id": staff_id,
             "action": "resident.enrolled", "subject": f"resident:{resident_id}",
             "detail": detail}
        )  # fmt: skip
    for rows, model in ((memberships, ResidentMembership), (entries, AuditEntry)):
        for start in range(0, len(rows), _BATCH):
            session.execute(insert(model), rows[start : start + _BATCH])
    result = ImportResult(
        created=len(new_rows),
        joined=len(joining),
        rejected=len(report.rejected),
        resident_ids=sorted(resident_id for resident_id, _ in made if resident_id is not None),
    )
    audit.record(
        session, action="resident.roster_imported", actor=actor, staff_id=staff_id,
        site_id=site_id, now=now, subject=f"roster:{digest}",
        detail={"file_sha256": file_digest, "created": result.created, "joined": result.joined,
                "rejected": result.rejected, "rows": len(report.sheet.rows)},
    )  # fmt: skip
    return result
