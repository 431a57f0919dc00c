"""Finding one thing of a centre's lending for staff: an item by id or tag, a member by
phone, an item's open loan, the counter's items, and the lending history of an item or a
resident (newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.core.errors import NotFound
from booking.lending.models.events import LendingEvent
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.lending.records import HISTORY_LIMIT, MAX_QUERY_LENGTH
from booking.people import visits
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.residents import normalise_phone


def item_history(
    session: Session, *, site_id: int, item_id: int, limit: int = HISTORY_LIMIT
) -> list[LendingEvent]:
    """The item's lending events, newest first (the append-only record of every change)."""
    return list(
        session.scalars(
            select(LendingEvent)
            .where(LendingEvent.site_id == site_id, LendingEvent.item_id == item_id)
            .order_by(LendingEvent.at.desc(), LendingEvent.id.desc())
            .limit(limit)
        )
    )


def resident_history(
    session: Session, *, site_id: int, resident_id: int, limit: int = HISTORY_LIMIT
) -> list[LendingEvent]:
    """Lending events about a resident at this site, newest first."""
    return list(
        session.scalars(
            select(LendingEvent)
            .where(LendingEvent.site_id == site_id, LendingEvent.resident_id == resident_id)
            .order_by(LendingEvent.at.desc(), LendingEvent.id.desc())
            .limit(limit)
        )
    )


def resident_names(session: Session, events: Sequence[LendingEvent]) -> dict[int, str]:
    """The names of the residents the events are about, for a history table."""
    ids = {event.resident_id for event in events if event.resident_id is not None}
    if not ids:
        return {}
    found = session.execute(select(Resident.id, Resident.name).where(Resident.id.in_(ids)))
    return {resident_id: name for resident_id, name in found}


def site_item(session: Session, *, site_id: int, item_id: int) -> Item:
    item = session.scalar(select(Item).where(Item.id == item_id, Item.site_id == site_id))
    if item is None:
        raise NotFound("no such item at this centre", item_id=item_id)
    return item


def item_by_tag(session: Session, *, site_id: int, asset_tag: str) -> Item | None:
    """The site's item with exactly this asset tag (any case), for a scanner or a typed tag."""
    tag = asset_tag.strip()
    if not tag or len(tag) > MAX_QUERY_LENGTH:
        return None
    return session.scalar(
        select(Item).where(Item.site_id == site_id, func.upper(Item.asset_tag) == tag.upper())
    )


def member_by_phone(session: Session, *, site_id: int, phone: str) -> Resident | None:
    """The site's member with this phone number, however staff typed it (spaces, +86)."""
    digits = normalise_phone(phone)
    if not digits.isdigit() or len(digits) > 20:
        return None
    return session.scalar(
        select(Resident)
        .join(ResidentMembership)
        .where(Resident.phone == digits, ResidentMembership.site_id == site_id)
    )


def borrower_by_phone(
    session: Session, *, site_id: int, phone: str, now: datetime
) -> Resident | None:
    """Who borrows at the counter: the site's member with this phone, or a resident of
    another centre of the district, standing at this counter, who becomes its visitor
    (booking.people.visits) and borrows under its rules. None for anyone else."""
    found = member_by_phone(session, site_id=site_id, phone=phone)
    if found is not None:
        return found
    digits = normalise_phone(phone)
    if not digits.isdigit() or len(digits) > 20:
        return None
    resident = visits.of_the_district(session, digits)
    if resident is None:
        return None
    visits.visit(session, resident=resident, site_id=site_id, now=now)
    return resident


def tool_types(session: Session, *, site_id: int) -> list[ToolType]:
    return list(
        session.scalars(select(ToolType).where(ToolType.site_id == site_id).order_by(ToolType.id))
    )


def tool_type_names(session: Session, *, site_id: int) -> list[tuple[int, str, str]]:
    """The site's tool types as (id, Chinese name, English name), for a filter's choices."""
    rows = session.execute(
        select(ToolType.id, ToolType.name_zh, ToolType.name_en)
        .where(ToolType.site_id == site_id)
        .order_by(ToolType.id)
    )
    return [(tool_id, name_zh, name_en) for tool_id, name_zh, name_en in rows]


def open_loan_of_item(session: Session, *, site_id: int, item_id: int) -> Loan | None:
    return session.scalar(
        select(Loan).where(
            Loan.site_id == site_id,
            Loan.item_id == item_id,
            Loan.status.in_(OPEN_LOAN_STATUSES),
            Loan.returned_at.is_(None),
        )
    )


def counter_items(session: Session, *, site_id: int) -> list[Item]:
    """Items kept at the counter (big ones), by tool and tag, for the counter lending page."""
    return list(
        session.scalars(
            select(Item)
            .where(Item.site_id == site_id, Item.locker_device_id.is_(None))
            .order_by(Item.tool_type_id, Item.asset_tag)
        )
    )
