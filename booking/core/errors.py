"""Domain errors, each with a stable code that the web maps to a message or an API error."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. ``code`` is stable and machine-readable; ``status`` is the HTTP analogue."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code
        self.details = details


class NotFound(DomainError):
    code = "not_found"
    status = 404


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 422


class Conflict(DomainError):
    code = "conflict"
    status = 409


class SignInFailed(DomainError):
    """Wrong phone or wrong PIN: deliberately one error for both, so phones cannot be enumerated."""

    code = "sign_in_failed"
    status = 401


class TooManySignIns(DomainError):
    """Too many wrong PINs or passwords from this client: ``retry_after`` says how many
    seconds to wait (booking.people.sign_in_guard)."""

    code = "too_many_sign_ins"
    status = 429


class StaffSignInFailed(DomainError):
    code = "staff_sign_in_failed"
    status = 401


class SessionExpired(DomainError):
    code = "session_expired"
    status = 401


class TokenRefused(DomainError):
    """An API token that is not one, has expired or was revoked: all answer alike."""

    code = "invalid_token"
    status = 401


class ScopeMissing(DomainError):
    """A good API token that was not given the scope this call needs."""

    code = "insufficient_scope"
    status = 403


class NotPermitted(DomainError):
    """Signed in, but this account may not do that here (another centre's business)."""

    code = "not_permitted"
    status = 403


# --- Booking seats and rooms (issue 4) ----------------------------------------------------------


class SlotTaken(DomainError):
    """Someone else holds the seat or room for part of that time."""

    code = "slot_taken"
    status = 409


class OffGrid(DomainError):
    code = "off_grid"
    status = 422


class OutsideBookingWindow(DomainError):
    """Too far ahead, or already over (study seats: today and tomorrow)."""

    code = "outside_booking_window"
    status = 422


class OutsideOpeningHours(DomainError):
    code = "outside_opening_hours"
    status = 422


class BookingTooLong(DomainError):
    code = "booking_too_long"
    status = 422


class DailyLimitReached(DomainError):
    code = "daily_limit_reached"
    status = 409


class ResidentBusy(DomainError):
    """The resident already has a booking at that time (one person, one seat)."""

    code = "resident_busy"
    status = 409


class ResidentSuspended(DomainError):
    code = "resident_suspended"
    status = 403


class SpaceClosed(DomainError):
    code = "space_closed"
    status = 409


class OverCapacity(DomainError):
    code = "over_capacity"
    status = 422


class WrongBookingState(DomainError):
    """The booking is not in a state that allows this (e.g. checking in twice)."""

    code = "wrong_booking_state"
    status = 409


class CheckInTooEarly(DomainError):
    code = "check_in_too_early"
    status = 409


class CheckInClosed(DomainError):
    code = "check_in_closed"
    status = 409


class LeaveExpired(DomainError):
    code = "leave_expired"
    status = 409


class CancelTooLate(DomainError):
    code = "cancel_too_late"
    status = 409


class SlotFree(DomainError):
    """Nothing to queue for: the slot is free, book it."""

    code = "slot_free"
    status = 409


class AlreadyQueued(DomainError):
    code = "already_queued"
    status = 409


class OfferExpired(DomainError):
    code = "offer_expired"
    status = 409


class SuspensionNotActive(DomainError):
    """Lifting a suspension that has ended or was lifted already."""

    code = "suspension_not_active"
    status = 409


# --- Blood pressure and health data (issue 6) ---------------------------------------------------


class ConsentRequired(DomainError):
    """Readings are kept only for a resident who gave the separate health-data consent."""

    code = "consent_required"
    status = 409


class ImpossibleReading(DomainError):
    """Values no body produces (``details["reason"]`` says which rule): a faulty cuff."""

    code = "impossible_reading"
    status = 422


class TerminalBusy(DomainError):
    """Another resident is paired with the terminal right now."""

    code = "terminal_busy"
    status = 409


# --- Centre administration (issue 7) ------------------------------------------------------------


class SpaceRetired(DomainError):
    """The space was retired by an admin: it takes no new bookings."""

    code = "space_retired"
    status = 409


class ToolTypeRetired(DomainError):
    """The tool type was retired by an admin: its items are lent no more."""

    code = "tool_type_retired"
    status = 409


class StillInUse(Conflict):
    """Retiring is refused while bookings or loans are live (``details["count"]`` says how many)."""

    code = "still_in_use"
