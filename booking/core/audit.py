"""The audit log: append-only, written in the same transaction as what it records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from booking.core.models.audit import AuditEntry
from booking.people.models.staff import StaffAccount


def staff_actor(staff: StaffAccount) -> str:
    return f"staff:{staff.username}"


def record(
    session: Session,
    *,
    action: str,
    actor: str,
    now: datetime,
    site_id: int | None,
    subject: str = "",
    staff_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry; it commits or rolls back with the change it describes."""
    entry = AuditEntry(
        site_id=site_id,
        at=now,
        actor=actor,
        staff_id=staff_id,
        action=action,
        subject=subject,
        detail=detail or {},
    )
    session.add(entry)
    session.flush()
    return entry


def record_staff(
    session: Session,
    staff: StaffAccount,
    *,
    action: str,
    now: datetime,
    subject: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """An entry for what a staff member did at their own site."""
    return record(
        session,
        action=action,
        actor=staff_actor(staff),
        staff_id=staff.id,
        site_id=staff.working_site_id,
        now=now,
        subject=subject,
        detail=detail,
    )


def entries(
    session: Session,
    *,
    site_id: int,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[AuditEntry]:
    """Newest first, filtered by person (exact actor), action (prefix) and time."""
    query = select(AuditEntry).where(AuditEntry.site_id == site_id)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
