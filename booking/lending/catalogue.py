"""The tools a centre lends, as a resident or staff finds them: the catalogue with what is in
the lockers and at the counter, one tool type or item of the site, and a tool's words for an
alert."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from booking.core.errors import ToolTypeRetired
from booking.lending.errors import ItemNotFound, ToolTypeNotFound
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus


@dataclass(frozen=True)
class CatalogueEntry:
    tool_type: ToolType
    # Items a resident can take from a locker right now, and items waiting at the counter.
    in_lockers: int
    at_counter: int

    @property
    def available(self) -> int:
        return self.in_lockers + self.at_counter


def catalogue(session: Session, *, site_id: int) -> list[CatalogueEntry]:
    """Every tool type of the site with how many of its items are available where."""
    types = list(
        session.scalars(
            select(ToolType)
            .where(ToolType.site_id == site_id, ToolType.retired_at.is_(None))
            .order_by(ToolType.id)
        )
    )
    counts: dict[tuple[int, bool], int] = {}
    rows = session.execute(
        select(Item.tool_type_id, Item.locker_device_id.is_(None), func.count())
        .where(Item.site_id == site_id, Item.status == ItemStatus.AVAILABLE)
        .group_by(Item.tool_type_id, Item.locker_device_id.is_(None))
    )
    for tool_type_id, at_counter, count in rows:
        counts[(tool_type_id, bool(at_counter))] = int(count)
    return [
        CatalogueEntry(t, counts.get((t.id, False), 0), counts.get((t.id, True), 0)) for t in types
    ]


def get_tool_type(session: Session, *, site_id: int, tool_type_id: int) -> ToolType:
    tool_type = session.get(ToolType, tool_type_id)
    if tool_type is None or tool_type.site_id != site_id:
        raise ToolTypeNotFound("no such tool", tool_type_id=tool_type_id)
    return tool_type


def ensure_not_retired(tool_type: ToolType) -> None:
    """A tool type an admin retired is lent no more (its loans' history stays)."""
    if tool_type.retired_at is not None:
        raise ToolTypeRetired("the tool is no longer lent", tool_type_id=tool_type.id)


def get_item(session: Session, *, site_id: int, item_id: int, lock: bool = False) -> Item:
    item = session.get(Item, item_id, with_for_update=lock)
    if item is None or item.site_id != site_id:
        raise ItemNotFound("no such item", item_id=item_id)
    return item


def tool_params(tool_type: ToolType, item: Item) -> dict[str, str | int]:
    """What the console needs to name a tool in an alert's summary, in either language."""
    return {"tool_zh": tool_type.name_zh, "tool_en": tool_type.name_en, "asset": item.asset_tag}
