"""An item and a loan change state only through their own methods, and each method allows
exactly the transitions in these tables: every other starting state is refused and left as
it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from booking.lending.errors import WrongLendingState
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.tools import Item, ItemStatus

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a fixed instant: only the fields' values matter

# method -> {from: to}; a state missing from a row is refused.
ITEM_TRANSITIONS = {
    "lend": {
        ItemStatus.AVAILABLE: ItemStatus.ON_LOAN,
        ItemStatus.RESERVED: ItemStatus.ON_LOAN,
        ItemStatus.MISSING: ItemStatus.ON_LOAN,
    },
    "reserve": {ItemStatus.AVAILABLE: ItemStatus.RESERVED},
    "written_off": {ItemStatus.ON_LOAN: ItemStatus.LOST, ItemStatus.OVERDUE: ItemStatus.LOST},
    "back_in_service": {ItemStatus.MAINTENANCE: ItemStatus.AVAILABLE},
    "go_missing": {
        ItemStatus.AVAILABLE: ItemStatus.MISSING,
        ItemStatus.RESERVED: ItemStatus.MISSING,
        ItemStatus.MISSING: ItemStatus.MISSING,
    },
}


def item_in(status: ItemStatus) -> Item:
    return Item(site_id=1, tool_type_id=1, asset_tag="DR-01", status=status, condition="good")


@pytest.mark.parametrize(
    ("method", "start"),
    [(method, start) for method in ITEM_TRANSITIONS for start in ItemStatus],
)
def test_an_items_method_allows_only_its_transitions(method: str, start: ItemStatus) -> None:
    item = item_in(start)
    allowed = ITEM_TRANSITIONS[method]
    if start in allowed:
        getattr(item, method)()
        assert item.status is allowed[start]
    else:
        with pytest.raises(WrongLendingState):
            getattr(item, method)()
        assert item.status is start


@pytest.mark.parametrize("start", list(ItemStatus))
def test_an_item_whose_loan_ended_is_available_unless_staff_hold_it(start: ItemStatus) -> None:
    item = item_in(start)
    item.loan_ended()
    out = start in (ItemStatus.ON_LOAN, ItemStatus.OVERDUE, ItemStatus.LOST)
    assert item.status is (ItemStatus.AVAILABLE if out else start)


@pytest.mark.parametrize("start", list(LoanStatus))
def test_a_loan_ends_once(start: LoanStatus) -> None:
    loan = Loan(status=start, started_at=NOW, due_at=NOW)
    if start is LoanStatus.RETURNED:
        with pytest.raises(WrongLendingState):
            loan.end(NOW)
        assert loan.returned_at is None
    else:
        loan.end(NOW)
        assert (loan.status, loan.returned_at) == (LoanStatus.RETURNED, NOW)


# Methods that move an item only from some states and leave every other state as it was.
ITEM_NUDGES = {
    "reservation_released": {ItemStatus.RESERVED: ItemStatus.AVAILABLE},
    "loan_overdue": {ItemStatus.ON_LOAN: ItemStatus.OVERDUE},
}


@pytest.mark.parametrize(
    ("method", "start"), [(method, start) for method in ITEM_NUDGES for start in ItemStatus]
)
def test_an_items_nudge_moves_only_from_its_states(method: str, start: ItemStatus) -> None:
    item = item_in(start)
    getattr(item, method)()
    assert item.status is ITEM_NUDGES[method].get(start, start)


LOAN_TRANSITIONS = {
    "go_overdue": {LoanStatus.ACTIVE: LoanStatus.OVERDUE},
    "write_off": {LoanStatus.ACTIVE: LoanStatus.LOST, LoanStatus.OVERDUE: LoanStatus.LOST},
}


@pytest.mark.parametrize(
    ("method", "start"), [(method, start) for method in LOAN_TRANSITIONS for start in LoanStatus]
)
def test_a_loans_method_allows_only_its_transitions(method: str, start: LoanStatus) -> None:
    loan = Loan(status=start, started_at=NOW, due_at=NOW)
    call = (lambda: loan.go_overdue(NOW)) if method == "go_overdue" else loan.write_off
    if start in LOAN_TRANSITIONS[method]:
        call()
        assert loan.status is LOAN_TRANSITIONS[method][start]
    else:
        with pytest.raises(WrongLendingState):
            call()
        assert loan.status is start
