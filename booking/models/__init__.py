"""Every table of the domain, imported here so the metadata is complete for Alembic and tests."""

from booking.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.models.audit import AuditEntry
from booking.models.auth_sessions import ResidentSession, SignInThrottle, StaffSession
from booking.models.bookings import ACTIVE_STATUSES, Booking, BookingStatus, SpaceRules
from booking.models.closures import Closure
from booking.models.door_sessions import (
    AT_THE_DOOR_STATES,
    LIVE_DOOR_STATES,
    DoorPurpose,
    DoorSession,
    DoorSessionState,
    ReleaseReason,
)
from booking.models.health import (
    BpReading,
    ConsentChannel,
    HealthConsent,
    HealthSettings,
    PairingStatus,
    TerminalPairing,
)
from booking.models.lending import (
    OPEN_LOAN_STATUSES,
    LendingAction,
    LendingEvent,
    LendingPolicy,
    LendingSuspension,
    Loan,
    LoanChannel,
    LoanStatus,
    ReturnCondition,
)
from booking.models.notifications import Notification, NotificationKind
from booking.models.reconciliation import LendingMismatch, MismatchKind, MismatchResolution
from booking.models.residents import Resident, ResidentMembership
from booking.models.sends import ScheduledSend
from booking.models.series import BookingSeries, SeriesException
from booking.models.sites import Site
from booking.models.spaces import Seat, Space, SpaceKind
from booking.models.staff import StaffAccount, StaffRole
from booking.models.strikes import BookingSuspension, NoShowStrike
from booking.models.tools import Item, ItemStatus, ToolType
from booking.models.uptime import Heartbeat, Outage, ServicePart
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
    "AT_THE_DOOR_STATES",
    "LIVE_DOOR_STATES",
    "DoorPurpose",
    "DoorSession",
    "DoorSessionState",
    "OPEN_LOAN_STATUSES",
    "LendingAction",
    "LendingEvent",
    "LendingPolicy",
    "LendingSuspension",
    "Loan",
    "LoanChannel",
    "LoanStatus",
    "ReleaseReason",
    "ReturnCondition",
    "Notification",
    "NotificationKind",
    "LendingMismatch",
    "MismatchKind",
    "MismatchResolution",
    "BookingSeries",
    "SeriesException",
    "BookingSuspension",
    "NoShowStrike",
    "Heartbeat",
    "Outage",
    "ServicePart",
    "ScheduledSend",
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
