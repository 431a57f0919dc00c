"""The staff's lending records: filters, keyset pages, overdue list, item and resident history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from booking.core.db import Database
from booking.core.errors import InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.lending import lookups as lending_lookups
from booking.lending import operations as lending
from booking.lending import records as lending_records
from booking.lending.models.events import LendingAction
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.lending.records import LoanFilter
from booking.people.models.memberships import ResidentMembership
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount, StaffRole

NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai


class Centre:
    """A site with tools, items and residents, and a way to add loans at chosen times."""

    def __init__(self, session: Session, slug: str = "records") -> None:
        self.session = session
        self.site = Site(slug=slug, name_zh="测试站", name_en="Test centre")
        session.add(self.site)
        session.flush()
        self.drill = self._tool("drill", "电钻", "Electric drill")
        self.ladder = self._tool("ladder", "折叠梯", "Folding ladder")
        self.items: dict[str, Item] = {}
        self.residents: dict[str, Resident] = {}

    def _tool(self, code: str, zh: str, en: str) -> ToolType:
        tool = ToolType(site_id=self.site.id, code=code, name_zh=zh, name_en=en, loan_days=3)
        self.session.add(tool)
        self.session.flush()
        return tool

    def item(self, tag: str, tool: ToolType) -> Item:
        item = Item(site_id=self.site.id, tool_type_id=tool.id, asset_tag=tag)
        self.session.add(item)
        self.session.flush()
        self.items[tag] = item
        return item

    def resident(self, name: str, phone: str) -> Resident:
        resident = Resident(name=name, phone=phone, pin_hash="x", created_at=NOW)
        resident.memberships.append(ResidentMembership(site_id=self.site.id, joined_at=NOW))
        self.session.add(resident)
        self.session.flush()
        self.residents[name] = resident
        return resident

    def loan(
        self,
        tag: str,
        name: str,
        started: datetime,
        *,
        days: int = 3,
        status: LoanStatus = LoanStatus.ACTIVE,
        channel: LoanChannel = LoanChannel.LOCKER,
    ) -> Loan:
        item = self.items[tag]
        loan = Loan(
            site_id=self.site.id,
            item_id=item.id,
            tool_type_id=item.tool_type_id,
            resident_id=self.residents[name].id,
            channel=channel,
            status=status,
            started_at=started,
            due_at=started + timedelta(days=days),
            returned_at=started + timedelta(days=1) if status is LoanStatus.RETURNED else None,
        )
        self.session.add(loan)
        self.session.flush()
        return loan


@pytest.fixture
def centre(any_database: Database) -> Iterator[Centre]:
    with any_database.sessions() as session, session.begin():
        centre = Centre(session)
        centre.item("DR-001", centre.drill)
        centre.item("DR-002", centre.drill)
        centre.item("LA-001", centre.ladder)
        centre.resident("王秀英", "13800000001")
        centre.resident("李建国", "13800000002")
        centre.resident("100%_张", "13900000003")
        yield centre
        session.rollback()


def ids(page: lending_records.LoanPage) -> list[int]:
    return [row.loan_id for row in page.rows]


def find(centre: Centre, **where: Any) -> list[int]:
    page = lending_records.loan_page(
        centre.session,
        site_id=centre.site.id,
        where=LoanFilter(**where),
        now=NOW,
    )
    return ids(page)


def test_loans_are_listed_newest_first_with_names_and_tags(centre: Centre) -> None:
    old = centre.loan("DR-001", "王秀英", NOW - timedelta(days=10), status=LoanStatus.RETURNED)
    new = centre.loan("LA-001", "李建国", NOW - timedelta(hours=1))
    page = lending_records.loan_page(
        centre.session, site_id=centre.site.id, where=LoanFilter(), now=NOW
    )
    assert ids(page) == [new.id, old.id]
    assert page.total == 2 and page.next_cursor is None
    first = page.rows[0]
    assert (first.asset_tag, first.tool_name_zh, first.resident_name, first.resident_phone) == (
        "LA-001", "折叠梯", "李建国", "13800000002",
    )  # fmt: skip


def test_keyset_pages_list_every_loan_once_even_when_start_times_tie(centre: Centre) -> None:
    same_moment = NOW - timedelta(days=1)
    made = [
        centre.loan("DR-001", "王秀英", same_moment if i % 2 else NOW - timedelta(hours=i),
                    status=LoanStatus.RETURNED)
        for i in range(11)
    ]  # fmt: skip
    seen: list[int] = []
    before = None
    while True:
        page = lending_records.loan_page(
            centre.session, site_id=centre.site.id, where=LoanFilter(), now=NOW,
            before=before, page_size=3,
        )  # fmt: skip
        assert len(page.rows) <= 3 and page.total == 11
        seen += ids(page)
        if page.next_cursor is None:
            break
        before = page.next_cursor
    assert sorted(seen) == sorted(loan.id for loan in made)
    assert len(seen) == len(set(seen))


def test_matching_loans_are_counted_up_to_the_count_limit_and_more_is_said_beyond_it(
    centre: Centre,
) -> None:
    for hours in range(4):
        centre.loan("DR-001", "王秀英", NOW - timedelta(days=hours + 1), status=LoanStatus.RETURNED)

    def counted(limit: int, **where: Any) -> tuple[int, bool]:
        page = lending_records.loan_page(
            centre.session, site_id=centre.site.id, where=LoanFilter(**where), now=NOW,
            page_size=2, count_limit=limit,
        )  # fmt: skip
        return page.total, page.more

    assert counted(3) == (3, True)
    assert counted(4) == (4, False)
    assert counted(10) == (4, False)
    # The limit counts what matches the filter, not every loan of the centre.
    assert counted(3, status=LoanStatus.ACTIVE) == (0, False)


def test_a_cursor_of_another_centre_or_no_loan_is_refused(centre: Centre) -> None:
    with pytest.raises(InvalidInput):
        lending_records.loan_page(
            centre.session, site_id=centre.site.id, where=LoanFilter(), now=NOW, before=99999
        )


@pytest.mark.parametrize(
    ("query", "expected"),
    [("王", ["王秀英"]), ("00000002", ["李建国"]), ("138 0000-0001", ["王秀英"]),
     ("%_", ["100%_张"]), ("nobody", [])],
)  # fmt: skip
def test_filter_by_part_of_a_residents_name_or_phone(
    centre: Centre, query: str, expected: list[str]
) -> None:
    by_name = {
        centre.loan("DR-001", name, NOW - timedelta(days=i), status=LoanStatus.RETURNED).id: name
        for i, name in enumerate(["王秀英", "李建国", "100%_张"])
    }
    assert [by_name[i] for i in find(centre, resident=query)] == expected


def test_filter_by_tool_type_item_tag_and_status(centre: Centre) -> None:
    drill = centre.loan("DR-002", "王秀英", NOW - timedelta(days=2))
    ladder = centre.loan("LA-001", "王秀英", NOW - timedelta(days=5), status=LoanStatus.RETURNED)
    assert find(centre, tool_type_id=centre.ladder.id) == [ladder.id]
    assert find(centre, asset_tag="dr-00") == [drill.id]
    assert find(centre, item_id=centre.items["LA-001"].id) == [ladder.id]
    assert find(centre, status=LoanStatus.RETURNED) == [ladder.id]
    assert find(centre, status=LoanStatus.ACTIVE, tool_type_id=centre.ladder.id) == []


def test_on_loan_means_every_loan_still_out_late_ones_too(centre: Centre) -> None:
    """The words are "借出中 / On loan": an overdue drill is still on loan, so it is listed."""
    out = centre.loan("DR-001", "王秀英", NOW - timedelta(days=1))
    marked_late = centre.loan(
        "DR-002", "李建国", NOW - timedelta(days=9), status=LoanStatus.OVERDUE
    )
    back = centre.loan("LA-001", "王秀英", NOW - timedelta(days=9), status=LoanStatus.RETURNED)
    assert sorted(find(centre, status=LoanStatus.ACTIVE)) == sorted([out.id, marked_late.id])
    assert back.id not in find(centre, status=LoanStatus.ACTIVE)


def test_overdue_means_late_by_the_clock_before_the_daily_job_marks_it(centre: Centre) -> None:
    not_yet_marked = centre.loan("DR-001", "王秀英", NOW - timedelta(days=4))  # due a day ago
    marked = centre.loan("DR-002", "李建国", NOW - timedelta(days=9), status=LoanStatus.OVERDUE)
    centre.loan("LA-001", "王秀英", NOW - timedelta(days=1))  # due in two days
    centre.loan("LA-001", "李建国", NOW - timedelta(days=9), status=LoanStatus.RETURNED)
    late = sorted([not_yet_marked.id, marked.id])
    assert sorted(find(centre, status=LoanStatus.OVERDUE)) == late
    assert sorted(find(centre, overdue_only=True)) == late


def test_date_range_is_in_the_centres_local_days(centre: Centre) -> None:
    # 2026-11-20 23:30 in Shanghai is 15:30 UTC the same day; 2026-11-21 00:30 is 16:30 UTC.
    late_evening = centre.loan("DR-001", "王秀英", datetime(2026, 11, 20, 15, 30, tzinfo=UTC),
                               status=LoanStatus.RETURNED)  # fmt: skip
    after_midnight = centre.loan("DR-002", "王秀英", datetime(2026, 11, 20, 16, 30, tzinfo=UTC),
                                 status=LoanStatus.RETURNED)  # fmt: skip
    start, end = lending_records.local_day_bounds(
        centre.site, date(2026, 11, 20), date(2026, 11, 20)
    )
    assert find(centre, started_from=start, started_before=end) == [late_evening.id]
    start, end = lending_records.local_day_bounds(centre.site, date(2026, 11, 21), None)
    assert find(centre, started_from=start, started_before=end) == [after_midnight.id]


def test_overdue_only_shows_open_loans_past_due_even_before_the_daily_job_marks_them(
    centre: Centre,
) -> None:
    unmarked = centre.loan("DR-001", "王秀英", NOW - timedelta(days=3, hours=1))
    marked = centre.loan("DR-002", "李建国", NOW - timedelta(days=6), status=LoanStatus.OVERDUE)
    centre.loan("LA-001", "王秀英", NOW - timedelta(days=9), status=LoanStatus.RETURNED)
    centre.loan("LA-001", "李建国", NOW - timedelta(hours=2))  # not yet due
    assert find(centre, overdue_only=True) == [unmarked.id, marked.id]


def test_the_overdue_list_puts_the_longest_overdue_first(centre: Centre) -> None:
    recent = centre.loan("DR-001", "王秀英", NOW - timedelta(days=4))
    oldest = centre.loan("DR-002", "李建国", NOW - timedelta(days=9), status=LoanStatus.OVERDUE)
    rows = lending_records.overdue_loans(centre.session, site_id=centre.site.id, now=NOW)
    assert [row.loan_id for row in rows] == [oldest.id, recent.id]
    assert rows[0].days_late(NOW) == 6 and rows[1].days_late(NOW) == 1


def test_loans_of_another_centre_are_never_listed(centre: Centre) -> None:
    other = Centre(centre.session, slug="elsewhere")
    other.item("X-1", other.drill)
    other.resident("王秀英二", "13700000001")
    other.loan("X-1", "王秀英二", NOW - timedelta(days=1))
    assert find(centre) == []
    assert find(centre, resident="王") == []
    with pytest.raises(NotFound):
        lending_lookups.site_item(
            centre.session, site_id=centre.site.id, item_id=other.items["X-1"].id
        )


@pytest.mark.parametrize(
    "where",
    [
        {"resident": "x" * 61},
        {"asset_tag": "x" * 61},
        {"started_from": NOW, "started_before": NOW - timedelta(days=1)},
    ],
)
def test_bad_filters_are_refused(where: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        LoanFilter(**where)


def test_the_export_iterates_every_matching_loan_across_batches(centre: Centre) -> None:
    made = [
        centre.loan("DR-001", "王秀英", NOW - timedelta(hours=i), status=LoanStatus.RETURNED)
        for i in range(7)
    ]
    rows = list(
        lending_records.iter_loans(
            centre.session, site_id=centre.site.id, where=LoanFilter(), now=NOW, batch=2
        )
    )
    assert [row.loan_id for row in rows] == [loan.id for loan in made]


def test_item_and_resident_history_come_from_the_lending_events_newest_first(
    centre: Centre,
) -> None:
    staff = StaffAccount(
        site_id=centre.site.id, username="desk", display_name="Desk", password_hash="x",
        role=StaffRole.STAFF, created_at=NOW, password_changed_at=NOW,
    )  # fmt: skip
    centre.session.add(staff)
    centre.session.flush()
    item = centre.items["LA-001"]
    resident = centre.residents["李建国"]
    loan = lending.lend_at_counter(
        centre.session, staff=staff, item_id=item.id, resident_id=resident.id, now=NOW
    )
    lending.return_at_counter(
        centre.session, staff=staff, loan_id=loan.id, condition="fine",
        now=NOW + timedelta(hours=5),
    )  # fmt: skip
    history = lending_lookups.item_history(centre.session, site_id=centre.site.id, item_id=item.id)
    actions = [event.action for event in history]
    assert actions[-1] is LendingAction.LENT and LendingAction.RETURNED in actions
    assert all(event.actor == "staff:desk" for event in history)
    assert history[0].item_status is item.status
    by_resident = lending_lookups.resident_history(
        centre.session, site_id=centre.site.id, resident_id=resident.id
    )
    assert {event.id for event in by_resident} >= {e.id for e in history if e.loan_id == loan.id}
    assert (
        lending_lookups.resident_history(
            centre.session, site_id=centre.site.id, resident_id=centre.residents["王秀英"].id
        )
        == []
    )
    assert lending_lookups.resident_names(centre.session, history) == {resident.id: "李建国"}


def test_an_item_is_found_by_its_exact_tag_in_any_case(centre: Centre) -> None:
    found = lending_lookups.item_by_tag(
        centre.session, site_id=centre.site.id, asset_tag=" dr-001 "
    )
    assert found is centre.items["DR-001"]
    assert (
        lending_lookups.item_by_tag(centre.session, site_id=centre.site.id, asset_tag="DR-00")
        is None
    )
