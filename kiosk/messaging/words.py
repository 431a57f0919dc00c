"""The words for residents' messages: each kind's name (the kiosk's choices, the console's
lists) and each delivery state, as staff read it."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from booking.messages import kinds
from booking.messages.models.outbox import MessageState

KIND_LABELS: dict[str, LazyString] = {
    "booking_reminder": _l("Reminder before a booking starts"),
    "booking_approved": _l("Booking approved"),
    "booking_rejected": _l("Booking not approved, with the reason"),
    "closure": _l("Booking cancelled because a space closes"),
    "waitlist_offer": _l("A place from the waiting list"),
    "waitlist_ended": _l("Waiting list ended"),
    "no_show": _l("Missed booking recorded"),
    "suspended": _l("Booking suspension and when it ends"),
    "tool_reservation_ready": _l("A reserved tool is ready to collect"),
    "tool_queue_ready": _l("A tool you queued for is ready to collect"),
    "tool_no_show": _l("A tool held for you was not collected"),
    kinds.LOAN_DUE_TOMORROW: _l("Tool due back tomorrow"),
    kinds.LOAN_OVERDUE: _l("Tool overdue"),
    kinds.LOAN_ESCALATED: _l("Tool long overdue"),
    kinds.LENDING_SUSPENDED: _l("Borrowing suspension and when it ends"),
    kinds.SIGN_IN_CODE: _l("Sign-in code"),
    kinds.HEALTH_CONTACT: _l("Health follow-up to the emergency contact"),
}

STATE_LABELS: dict[MessageState, LazyString] = {
    MessageState.QUEUED: _l("Waiting to be sent"),
    MessageState.SENDING: _l("Being sent"),
    MessageState.SENT: _l("Sent"),
    MessageState.RETRYING: _l("Failed, will try again"),
    MessageState.GAVE_UP: _l("Not sent: gave up"),
}


def kind_label(kind: str) -> str:
    """A kind's name; a notice kind added later reads as a kiosk notice until it has one."""
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else str(_l("Notice at the kiosk"))


# The same states as the resident reads them on their phone: what it means for them.
RESIDENT_STATE_LABELS: dict[MessageState, LazyString] = {
    MessageState.QUEUED: _l("Waiting to be sent"),
    MessageState.SENDING: _l("Being sent"),
    MessageState.SENT: _l("Sent to the phone"),
    MessageState.RETRYING: _l("Not sent yet: we will try again"),
    MessageState.GAVE_UP: _l("Could not be sent. The notice is still at the kiosk."),
}
