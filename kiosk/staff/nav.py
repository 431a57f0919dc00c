"""The console's navigation bar. Adding an area is one line in :data:`NAV`."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from booking.people.models.staff import StaffAccount


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    label: LazyString
    admin_only: bool = False


NAV: tuple[NavEntry, ...] = (
    NavEntry("staff.overview", _l("Overview")),
    NavEntry("staff.alerts", _l("Alerts inbox")),
    NavEntry("staff.devices", _l("Devices")),
    NavEntry("staff.residents", _l("Residents")),
    NavEntry("staff.bookings", _l("Room bookings")),
    NavEntry("staff.health", _l("Health")),
    NavEntry("staff.lending", _l("Lending records")),
    NavEntry("staff.insights", _l("Insights")),
    NavEntry("staff.audit_log", _l("Audit log")),
    NavEntry("staff.accounts", _l("Staff accounts"), admin_only=True),
    NavEntry("staff.admin", _l("Administration"), admin_only=True),
)


def entries_for(staff: StaffAccount | None) -> list[NavEntry]:
    if staff is None:
        return []
    return [entry for entry in NAV if staff.is_admin or not entry.admin_only]


def section_of(endpoint: str | None) -> str | None:
    """The nav entry a page belongs to, so ``staff.resident`` highlights ``staff.residents``."""
    if endpoint is None:
        return None
    for entry in NAV:
        if endpoint == entry.endpoint or endpoint.startswith(entry.endpoint.removesuffix("s")):
            return entry.endpoint
    return None
