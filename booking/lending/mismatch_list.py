"""Lending mismatches as the console lists them: open ones first, then recently settled,
each with the tool, the loan and the resident it concerns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from booking.lending.models.loans import Loan
from booking.lending.models.mismatches import (
    RESOLUTIONS_OF_KIND,
    LendingMismatch,
    MismatchKind,
    MismatchResolution,
)
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount


@dataclass(frozen=True)
class MismatchRow:
    """One mismatch as the console lists it, with the names it needs."""

    id: int
    kind: MismatchKind
    device_id: str
    compartment: int
    item_id: int
    asset_tag: str
    item_status: ItemStatus
    tool_name_zh: str
    tool_name_en: str
    loan_id: int | None
    resident_id: int | None
    resident_name: str
    resident_phone: str
    loan_due_at: datetime | None
    observed_at: datetime
    last_seen_at: datetime
    cleared_at: datetime | None
    resolution: MismatchResolution | None
    resolved_at: datetime | None
    resolved_by: str
    note: str

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def resolutions(self) -> tuple[MismatchResolution, ...]:
        return RESOLUTIONS_OF_KIND[self.kind]


def _rows(session: Session, site_id: int, *, open_only: bool, limit: int) -> list[MismatchRow]:
    resolver = aliased(StaffAccount)
    query = (
        select(LendingMismatch, Item, ToolType, Loan, Resident, resolver)
        .join(Item, Item.id == LendingMismatch.item_id)
        .join(ToolType, ToolType.id == Item.tool_type_id)
        .outerjoin(Loan, Loan.id == LendingMismatch.loan_id)
        .outerjoin(Resident, Resident.id == Loan.resident_id)
        .outerjoin(resolver, resolver.id == LendingMismatch.resolved_by_staff_id)
        .where(LendingMismatch.site_id == site_id)
    )
    if open_only:
        query = query.where(LendingMismatch.resolved_at.is_(None)).order_by(
            LendingMismatch.observed_at, LendingMismatch.id
        )
    else:
        query = query.where(LendingMismatch.resolved_at.is_not(None)).order_by(
            LendingMismatch.resolved_at.desc(), LendingMismatch.id.desc()
        )
    rows = []
    for m, item, tool, loan, resident, staff in session.execute(query.limit(limit)):
        rows.append(
            MismatchRow(
                id=m.id,
                kind=m.kind,
                device_id=m.device_id,
                compartment=m.compartment,
                item_id=item.id,
                asset_tag=item.asset_tag,
                item_status=item.status,
                tool_name_zh=tool.name_zh,
                tool_name_en=tool.name_en,
                loan_id=m.loan_id,
                resident_id=resident.id if resident else None,
                resident_name=resident.name if resident else "",
                resident_phone=resident.phone if resident else "",
                loan_due_at=loan.due_at if loan else None,
                observed_at=m.observed_at,
                last_seen_at=m.last_seen_at,
                cleared_at=m.cleared_at,
                resolution=m.resolution,
                resolved_at=m.resolved_at,
                resolved_by=staff.display_name if staff else "",
                note=m.note,
            )  # fmt: skip
        )
    return rows


def open_mismatches(session: Session, *, site_id: int, limit: int = 200) -> list[MismatchRow]:
    """Mismatches waiting for staff, oldest first."""
    return _rows(session, site_id, open_only=True, limit=limit)


def settled_mismatches(session: Session, *, site_id: int, limit: int = 50) -> list[MismatchRow]:
    """The history: resolved by staff or cleared by the locker, newest first."""
    return _rows(session, site_id, open_only=False, limit=limit)
