"""What the console calls lending's states, actions and refusals, in the staff's language."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from booking.lending.models.events import LendingAction
from booking.lending.models.loans import LoanChannel, LoanStatus, ReturnCondition
from booking.lending.models.tools import ItemStatus

LOAN_STATUS = {
    LoanStatus.ACTIVE: _l("On loan"),
    LoanStatus.OVERDUE: _l("Overdue"),
    LoanStatus.RETURNED: _l("Returned"),
    LoanStatus.LOST: _l("Lost"),
}

ITEM_STATUS = {
    ItemStatus.AVAILABLE: _l("Available"),
    ItemStatus.RESERVED: _l("Reserved"),
    ItemStatus.ON_LOAN: _l("On loan"),
    ItemStatus.OVERDUE: _l("Overdue"),
    ItemStatus.MAINTENANCE: _l("In maintenance"),
    ItemStatus.LOST: _l("Lost"),
    ItemStatus.MISSING: _l("Missing"),
}

CHANNEL = {
    LoanChannel.LOCKER: _l("Locker"),
    LoanChannel.COUNTER: _l("Counter"),
}

CONDITION = {
    ReturnCondition.FINE.value: _l("Fine"),
    ReturnCondition.DAMAGED.value: _l("Damaged"),
    ReturnCondition.PARTS_MISSING.value: _l("Parts missing"),
}

ACTION = {
    LendingAction.RESERVED: _l("Reserved for pickup"),
    LendingAction.OPEN_REQUESTED: _l("Compartment open requested"),
    LendingAction.DOOR_OPENED: _l("Door opened"),
    LendingAction.DOOR_CLOSED: _l("Door closed"),
    LendingAction.RESERVATION_RELEASED: _l("Reservation released"),
    LendingAction.LENT: _l("Lent"),
    LendingAction.RETURN_RELEASED: _l("Return not completed"),
    LendingAction.RETURNED: _l("Returned"),
    LendingAction.CONDITION_REPORTED: _l("Condition reported"),
    LendingAction.TO_MAINTENANCE: _l("Sent to maintenance"),
    LendingAction.BACK_IN_SERVICE: _l("Back in service"),
    LendingAction.MARKED_OVERDUE: _l("Marked overdue"),
    LendingAction.OVERDUE_ESCALATED: _l("Overdue: staff alerted"),
    LendingAction.MARKED_LOST: _l("Marked lost"),
    LendingAction.DOOR_LEFT_OPEN: _l("Door left open"),
    LendingAction.FORCED_OPEN: _l("Door forced open"),
    LendingAction.ITEM_MISSING: _l("Item missing from its compartment"),
    LendingAction.ITEM_FOUND: _l("Missing item back in its compartment"),
    LendingAction.PRESENT_DURING_LOAN: _l("In its compartment while on loan"),
    LendingAction.UNEXPECTED_ITEM: _l("Unexpected item in a compartment"),
    LendingAction.JAMMED: _l("Lock jammed"),
    LendingAction.MAINTENANCE_OPEN: _l("Opened for maintenance"),
    LendingAction.RENEWED: _l("Renewed"),
}

# Refusals of counter lending and returns, by the domain error's stable code.
REFUSAL: dict[str, LazyString] = {
    "item_not_found": _l("There is no such item at this centre."),
    "resident_not_member": _l("No resident of this centre has that phone number."),
    "item_unavailable": _l("This item cannot be lent now, or the resident is not a member here."),
    "loan_limit_reached": _l("The resident already has the most items on loan allowed."),
    "lending_suspended": _l("The resident's borrowing is suspended after overdue loans."),
    "overdue_loan_outstanding": _l("The resident must first return an overdue item."),
    "loan_not_found": _l("There is no such loan at this centre."),
    "wrong_lending_state": _l("The item has already been returned."),
    "invalid_condition": _l("Say whether the item is fine, damaged or missing parts."),
    "renewal_limit_reached": _l("The loan was already renewed as many times as allowed."),
    "others_waiting": _l("Other residents are waiting for this tool: it cannot be renewed."),
    "reservation_not_found": _l("There is no such reservation at this centre."),
}
DEFAULT_REFUSAL = _l("That could not be done. Nothing was changed.")


def refusal(code: str) -> LazyString:
    return REFUSAL.get(code, DEFAULT_REFUSAL)
