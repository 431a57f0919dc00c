"""The refusals of residents' account operations (cards, deactivation, merging), each with a
stable code the console turns into a sentence."""

from __future__ import annotations

from booking.core.errors import Conflict


class AccountStateWrong(Conflict):
    """Deactivating an account that is not active, reactivating one that is, or touching one
    whose personal data is erased."""

    code = "account_state"


class CardTaken(Conflict):
    """The card is bound to another resident: it must be unbound there first."""

    code = "card_taken"


class NoCardBound(Conflict):
    code = "no_card"


class MergeRefused(Conflict):
    """The two accounts cannot be merged as they stand (``reason`` in the details says why)."""

    code = "merge_refused"
