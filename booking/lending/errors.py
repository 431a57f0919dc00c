"""Why lending said no: domain errors of tool lending, each with a stable code."""

from __future__ import annotations

from booking.core.errors import Conflict, DomainError, InvalidInput, NotFound


class ToolTypeNotFound(NotFound):
    code = "tool_type_not_found"


class ItemNotFound(NotFound):
    code = "item_not_found"


class LoanNotFound(NotFound):
    code = "loan_not_found"


class DoorSessionNotFound(NotFound):
    """No pickup or return (door session) of that id for this resident."""

    code = "door_session_not_found"


class NoItemAvailable(DomainError):
    """Every item of the type is out, reserved or in maintenance (or none is in a locker)."""

    code = "no_item_available"
    status = 409


class ItemUnavailable(DomainError):
    """That particular item cannot be lent now (``details["status"]`` says why)."""

    code = "item_unavailable"
    status = 409


class LoanLimitReached(DomainError):
    """The resident already has the most items on loan (or reserved) the site allows."""

    code = "loan_limit_reached"
    status = 409


class LendingSuspended(DomainError):
    """Borrowing is suspended after repeated overdue loans (``details["until"]``)."""

    code = "lending_suspended"
    status = 403


class OverdueLoanOutstanding(DomainError):
    """An overdue item must come back before another can be borrowed."""

    code = "overdue_loan_outstanding"
    status = 409


class NotInLocker(DomainError):
    """The item lives at the counter: staff lend and take it back there."""

    code = "not_in_locker"
    status = 409


class LockerOffline(DomainError):
    code = "locker_offline"
    status = 503


class CompartmentOccupied(DomainError):
    """The compartment the item belongs in already holds something."""

    code = "compartment_occupied"
    status = 409


class WrongLendingState(Conflict):
    """The pickup, return or loan is not in a state that allows this."""

    code = "wrong_lending_state"


class InvalidCondition(InvalidInput):
    code = "invalid_condition"


class SuspensionNotFound(NotFound):
    code = "lending_suspension_not_found"


class MismatchNotFound(NotFound):
    code = "mismatch_not_found"


class MismatchAlreadyResolved(Conflict):
    """Someone resolved the locker mismatch already (or the locker's next state cleared it)."""

    code = "mismatch_already_resolved"


class ResolutionDoesNotFit(InvalidInput):
    """A resolution of the other kind of mismatch (an item absent cannot be "returned")."""

    code = "resolution_does_not_fit"


class ReservationNotFound(NotFound):
    code = "reservation_not_found"


class ReservationWindowInvalid(InvalidInput):
    """The window is not a future one of at most a day, within the days that may be
    reserved ahead, within the centre's opening hours (``details["reason"]``: past, order,
    too_long, too_far, closed)."""

    code = "reservation_window_invalid"


class ToolFullyReserved(Conflict):
    """Every item of the type is reserved or out on loan for that window."""

    code = "tool_fully_reserved"


class ItemFreeNow(Conflict):
    """The queue is for the next item returned; one is free now, to borrow at the kiosk."""

    code = "item_free_now"


class AlreadyReserved(Conflict):
    """The resident already has a reservation or a queue place for this tool type."""

    code = "already_reserved"


class RenewalLimitReached(Conflict):
    """The loan was renewed as many times as the policy allows (``details["limit"]``)."""

    code = "renewal_limit_reached"


class OthersWaiting(Conflict):
    """Another resident waits for this tool type, so the loan is not renewed."""

    code = "others_waiting"
