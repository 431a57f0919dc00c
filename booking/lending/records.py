"""The staff's lending records: loans found by resident, tool, item, status, dates and
lateness, a page at a time (one item's or one resident's history is in ``lookups``).

Pages are keyset pages, newest loan first: a page ends with a cursor (its last loan's id)
and the next page starts strictly after that loan in ``(started_at, id)`` order. The cost of
a page is the same on page 1 and page 2,000, which OFFSET could not promise with 100,000
loans (``ix_loans_site_started`` serves the order; see ``bench/lending_records.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select, tuple_
from sqlalchemy.orm import Session

from booking.core.errors import InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.lending.models.loans import OPEN_LOAN_STATUSES, Loan, LoanChannel, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.residents import normalise_phone

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_QUERY_LENGTH = 60
MAX_REASON_LENGTH = 300
HISTORY_LIMIT = 200
# The records count matching loans up to here and say "more than" beyond it: an exact count
# read every matching row, all 100,000 of a busy centre's two years on every unfiltered page
# view (a sequential scan, 16-47 ms of PostgreSQL's time a request, most of the page's
# database time; docs/benchmarks.md). Past a thousand the exact figure does not change what
# staff do next (narrow the filter); the insight charts count for reports.
COUNT_LIMIT = 1000


class NotAMember(InvalidInput):
    """Nobody of this centre has that phone number (counter lending looks residents up by it)."""

    code = "resident_not_member"


def _like(text: str) -> str:
    # Escape LIKE wildcards so "_" or "%" typed by staff match themselves, not everything.
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class LoanFilter:
    """What staff narrowed the records to; every field is optional."""

    resident: str = ""  # part of a name or phone number
    resident_id: int | None = None
    tool_type_id: int | None = None
    asset_tag: str = ""  # part of an asset tag, any case
    item_id: int | None = None
    status: LoanStatus | None = None
    channel: LoanChannel | None = None
    # Borrowed on or after / before these instants (UTC); see :func:`local_day_bounds`.
    started_from: datetime | None = None
    started_before: datetime | None = None
    overdue_only: bool = False

    def __post_init__(self) -> None:
        for name in ("resident", "asset_tag"):
            if len(getattr(self, name).strip()) > MAX_QUERY_LENGTH:
                raise InvalidInput(
                    f"search text must be at most {MAX_QUERY_LENGTH} characters", field=name
                )
        if (
            self.started_from is not None
            and self.started_before is not None
            and self.started_before <= self.started_from
        ):
            raise InvalidInput("the end date is before the start date", field="date_to")


def local_day_bounds(
    site: Site, first: date | None, last: date | None
) -> tuple[datetime | None, datetime | None]:
    """The UTC instants from the start of ``first`` to the end of ``last``, both local days
    at the site (staff think in the centre's dates, the database in UTC)."""
    zone = ZoneInfo(site.timezone)
    start = datetime.combine(first, time(0), zone) if first is not None else None
    end = datetime.combine(last + timedelta(days=1), time(0), zone) if last is not None else None
    return start, end


@dataclass(frozen=True)
class LoanRow:
    """One line of the records: a loan with the names staff read, as plain values."""

    loan_id: int
    started_at: datetime
    due_at: datetime
    returned_at: datetime | None
    status: LoanStatus
    channel: LoanChannel
    item_id: int
    asset_tag: str
    tool_type_id: int
    tool_name_zh: str
    tool_name_en: str
    resident_id: int
    resident_name: str
    resident_phone: str
    return_condition: str | None
    lent_by_staff_id: int | None

    def is_late(self, now: datetime) -> bool:
        """Still out after its due date (whether or not the daily job has marked it yet)."""
        return self.status in OPEN_LOAN_STATUSES and self.due_at < now

    def days_late(self, now: datetime) -> int:
        return max(0, (now - self.due_at).days) if self.is_late(now) else 0


_ROW_COLUMNS = (
    Loan.id,
    Loan.started_at,
    Loan.due_at,
    Loan.returned_at,
    Loan.status,
    Loan.channel,
    Loan.item_id,
    Item.asset_tag,
    Loan.tool_type_id,
    ToolType.name_zh,
    ToolType.name_en,
    Loan.resident_id,
    Resident.name,
    Resident.phone,
    Loan.return_condition,
    Loan.lent_by_staff_id,
)


def _row(values: Sequence[object]) -> LoanRow:
    (loan_id, started, due, returned, status, channel, item_id, tag, type_id, zh, en,
     resident_id, name, phone, condition, staff_id) = values  # fmt: skip
    return LoanRow(
        loan_id=loan_id,  # type: ignore[arg-type]
        started_at=started,  # type: ignore[arg-type]
        due_at=due,  # type: ignore[arg-type]
        returned_at=returned,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        channel=channel,  # type: ignore[arg-type]
        item_id=item_id,  # type: ignore[arg-type]
        asset_tag=tag,  # type: ignore[arg-type]
        tool_type_id=type_id,  # type: ignore[arg-type]
        tool_name_zh=zh,  # type: ignore[arg-type]
        tool_name_en=en,  # type: ignore[arg-type]
        resident_id=resident_id,  # type: ignore[arg-type]
        resident_name=name,  # type: ignore[arg-type]
        resident_phone=phone,  # type: ignore[arg-type]
        return_condition=None if condition is None else str(condition),
        lent_by_staff_id=staff_id,  # type: ignore[arg-type]
    )


def _filtered_loans(site_id: int, where: LoanFilter, now: datetime) -> Select[Any]:
    """The ids of the site's loans that match ``where``; callers add columns and order."""
    stmt = select(Loan.id).where(Loan.site_id == site_id)
    query = where.resident.strip()
    if query:
        # Residents first, then their loans by ``ix_loans_resident_started``: a search for
        # a name touches the few matching residents, not every loan's resident.
        conditions = [Resident.name.ilike(_like(query), escape="\\")]
        phone = normalise_phone(query)
        if phone.isdigit():
            conditions.append(Resident.phone.like(_like(phone), escape="\\"))
        members = (
            select(Resident.id)
            .join(ResidentMembership)
            .where(ResidentMembership.site_id == site_id, or_(*conditions))
        )
        stmt = stmt.where(Loan.resident_id.in_(members))
    if where.resident_id is not None:
        stmt = stmt.where(Loan.resident_id == where.resident_id)
    if where.tool_type_id is not None:
        stmt = stmt.where(Loan.tool_type_id == where.tool_type_id)
    tag = where.asset_tag.strip()
    if tag:
        items = select(Item.id).where(
            Item.site_id == site_id, Item.asset_tag.ilike(_like(tag), escape="\\")
        )
        stmt = stmt.where(Loan.item_id.in_(items))
    if where.item_id is not None:
        stmt = stmt.where(Loan.item_id == where.item_id)
    if where.status is LoanStatus.ACTIVE:
        # "On loan" is every loan still out, late ones too: an overdue drill is still on loan.
        stmt = stmt.where(Loan.status.in_(OPEN_LOAN_STATUSES))
    elif where.status is LoanStatus.OVERDUE:
        # "Overdue" is late by the clock, as overdue_only is, not only once the daily job marks it.
        stmt = stmt.where(Loan.status.in_(OPEN_LOAN_STATUSES), Loan.due_at < now)
    elif where.status is not None:
        stmt = stmt.where(Loan.status == where.status)
    if where.channel is not None:
        stmt = stmt.where(Loan.channel == where.channel)
    if where.started_from is not None:
        stmt = stmt.where(Loan.started_at >= where.started_from)
    if where.started_before is not None:
        stmt = stmt.where(Loan.started_at < where.started_before)
    if where.overdue_only:
        # Late by the clock, not only by the daily job's mark: staff should see a loan due
        # at 09:00 as late at 10:00.
        stmt = stmt.where(Loan.status.in_(OPEN_LOAN_STATUSES), Loan.due_at < now)
    return stmt


def _with_names(stmt: Select[Any]) -> Select[*tuple[Any, ...]]:
    return (
        stmt.with_only_columns(*_ROW_COLUMNS)
        .join(Item, Item.id == Loan.item_id)
        .join(ToolType, ToolType.id == Loan.tool_type_id)
        .join(Resident, Resident.id == Loan.resident_id)
    )


@dataclass(frozen=True)
class LoanPage:
    """One page of records, newest first, and the cursor of the page after it (if any).

    ``total`` counts the matching loans up to the count limit; ``more`` says there are more
    than that (``total`` is then the limit). Not counted at all: ``total`` -1."""

    rows: list[LoanRow]
    total: int
    next_cursor: int | None
    page_size: int
    first: bool
    more: bool = False


def _after(session: Session, site_id: int, cursor: int) -> tuple[datetime, int]:
    started = session.scalar(
        select(Loan.started_at).where(Loan.id == cursor, Loan.site_id == site_id)
    )
    if started is None:
        raise InvalidInput("that page no longer exists; start from the first page", field="before")
    return started, cursor


def loan_page(
    session: Session,
    *,
    site_id: int,
    where: LoanFilter,
    now: datetime,
    before: int | None = None,
    page_size: int = PAGE_SIZE,
    count: bool = True,
    count_limit: int | None = None,
) -> LoanPage:
    """The loans matching ``where``, newest first, starting after the loan ``before``
    (a cursor from the previous page) or at the newest, and how many match, counted up to
    ``count_limit`` (:data:`COUNT_LIMIT` unless given)."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page size must be 1 to {MAX_PAGE_SIZE}", field="page_size")
    matching = _filtered_loans(site_id, where, now)
    stmt = _with_names(matching)
    if before is not None:
        started, loan_id = _after(session, site_id, before)
        stmt = stmt.where(tuple_(Loan.started_at, Loan.id) < tuple_(started, loan_id))
    # One row more than the page says whether another page follows.
    found = session.execute(
        stmt.order_by(Loan.started_at.desc(), Loan.id.desc()).limit(page_size + 1)
    ).all()
    rows = [_row(values) for values in found[:page_size]]
    total, more = -1, False
    if count:
        # One past the limit says whether there are more; the database stops reading there.
        limit = COUNT_LIMIT if count_limit is None else count_limit
        bounded = matching.order_by(None).limit(limit + 1).subquery()
        total = int(session.scalar(select(func.count()).select_from(bounded)) or 0)
        total, more = min(total, limit), total > limit
    next_cursor = rows[-1].loan_id if len(found) > page_size else None
    return LoanPage(
        rows=rows, total=total, next_cursor=next_cursor, page_size=page_size,
        first=before is None, more=more,
    )  # fmt: skip


def iter_loans(
    session: Session, *, site_id: int, where: LoanFilter, now: datetime, batch: int = 1000
) -> Iterator[LoanRow]:
    """Every matching loan, newest first, fetched a batch at a time (for the CSV export)."""
    before: int | None = None
    while True:
        page = loan_page(
            session,
            site_id=site_id,
            where=where,
            now=now,
            before=before,
            page_size=min(batch, MAX_PAGE_SIZE),
            count=False,
        )
        yield from page.rows
        if page.next_cursor is None:
            return
        before = page.next_cursor


def overdue_loans(
    session: Session, *, site_id: int, now: datetime, limit: int = MAX_PAGE_SIZE
) -> list[LoanRow]:
    """Open loans past their due date, the longest overdue first (who to call first)."""
    matching = _filtered_loans(site_id, LoanFilter(overdue_only=True), now)
    found = session.execute(_with_names(matching).order_by(Loan.due_at, Loan.id).limit(limit)).all()
    return [_row(values) for values in found]


def loan_row(session: Session, *, site_id: int, loan_id: int) -> LoanRow:
    """One loan of the site as a records line."""
    found = session.execute(
        _with_names(select(Loan.id).where(Loan.site_id == site_id, Loan.id == loan_id))
    ).first()
    if found is None:
        raise NotFound("no such loan at this centre", loan_id=loan_id)
    return _row(found)
