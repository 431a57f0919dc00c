"""What the console calls locker mismatches and their outcomes, in the staff's language."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from booking.lending.models.mismatches import MismatchKind, MismatchResolution

KIND = {
    MismatchKind.PRESENT_DURING_LOAN: _l("Returned without a return?"),
    MismatchKind.ITEM_ABSENT: _l("Missing from its compartment"),
}

# What the locker reported, and what the records said, for each kind.
LOCKER_SAYS = {
    MismatchKind.PRESENT_DURING_LOAN: _l("The tool is in its compartment."),
    MismatchKind.ITEM_ABSENT: _l("The compartment is empty."),
}
RECORDS_SAY = {
    MismatchKind.PRESENT_DURING_LOAN: _l("The loan is still open."),
    MismatchKind.ITEM_ABSENT: _l(
        "The tool should be inside. It is marked missing and not offered until this is resolved."
    ),
}

OUTCOME = {
    MismatchResolution.RETURNED: _l("Loan ended: returned at the counter"),
    MismatchResolution.STILL_OUT: _l("Loan kept open: something else was inside"),
    MismatchResolution.FOUND: _l("Found: can be lent again"),
    MismatchResolution.LOST: _l("Marked lost"),
    MismatchResolution.CLEARED: _l("The locker agreed again by itself"),
}

DONE = {
    MismatchResolution.RETURNED: _l("%(tag)s: the loan is ended as returned at the counter."),
    MismatchResolution.STILL_OUT: _l("%(tag)s: the loan stays open."),
    MismatchResolution.FOUND: _l("%(tag)s is available again."),
    MismatchResolution.LOST: _l("%(tag)s is marked lost."),
}

REFUSAL: dict[str, LazyString] = {
    "mismatch_not_found": _l("There is no such locker check at this centre."),
    "mismatch_already_resolved": _l(
        "This was already resolved, by a colleague or by the locker itself. Nothing was changed."
    ),
    "resolution_does_not_fit": _l("Choose one of the answers offered for this check."),
    "invalid_input": _l("Say what you checked and did."),
    "invalid_condition": _l("Say whether the item is fine, damaged or missing parts."),
}
DEFAULT_REFUSAL = _l("That could not be done. Nothing was changed.")


def refusal(code: str) -> LazyString:
    return REFUSAL.get(code, DEFAULT_REFUSAL)
