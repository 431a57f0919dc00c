"""Every table of the domain, imported here so the metadata is complete for Alembic and tests."""

from booking.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.models.audit import AuditEntry
from booking.models.auth_sessions import ResidentSession, SignInThrottle, StaffSession
from booking.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus, SpaceRules
from booking.models.closures import Closure
from booking.models.health import (
    BpReading,
    ConsentChannel,
    HealthConsent,
    HealthSettings,
    PairingStatus,
    TerminalPairing,
)
from booking.models.lending import (
    LIVE_RESERVATION_STATES,
    LIVE_RETURN_STATES,
    OPEN_LOAN_STATUSES,
    LendingAction,
    LendingEvent,
    LendingPolicy,
    LendingSuspension,
    Loan,
    LoanChannel,
    LoanStatus,
    ReleaseReason,
    Reservation,
    ReservationState,
    ReturnAttempt,
    ReturnCondition,
    ReturnState,
)
from booking.models.notifications import Notification, NotificationKind
from booking.models.residents import Resident, ResidentMembership
from booking.models.series import BookingSeries, SeriesException
from booking.models.sites import Site
from booking.models.spaces import Seat, Space, SpaceKind
from booking.models.staff import StaffAccount, StaffRole
from booking.models.strikes import BookingSuspension, NoShowStrike
from booking.models.tools import Item, ItemStatus, ToolType
from booking.models.uptime import Heartbeat, Outage
from booking.models.waitlist import WaitlistEntry, WaitlistStatus

__all__ = [
    "AlertSeverity",
    "AlertStatus",
    "AuditEntry",
    "StaffAlert",
    "ACTIVE_STATUSES",
    "Booking",
    "BookingStatus",
    "SpaceRules",
    "Closure",
    "BpReading",
    "ConsentChannel",
    "HealthConsent",
    "HealthSettings",
    "PairingStatus",
    "TerminalPairing",
    "LIVE_RESERVATION_STATES",
    "LIVE_RETURN_STATES",
    "OPEN_LOAN_STATUSES",
    "LendingAction",
    "LendingEvent",
    "LendingPolicy",
    "LendingSuspension",
    "Loan",
    "LoanChannel",
    "LoanStatus",
    "ReleaseReason",
    "Reservation",
    "ReservationState",
    "ReturnAttempt",
    "ReturnCondition",
    "ReturnState",
    "Notification",
    "NotificationKind",
    "BookingSeries",
    "SeriesException",
    "BookingSuspension",
    "NoShowStrike",
    "Heartbeat",
    "Outage",
    "WaitlistEntry",
    "WaitlistStatus",
    "Item",
    "ItemStatus",
    "Resident",
    "ResidentMembership",
    "ResidentSession",
    "Seat",
    "SignInThrottle",
    "Site",
    "Space",
    "SpaceKind",
    "StaffAccount",
    "StaffRole",
    "StaffSession",
    "ToolType",
]
