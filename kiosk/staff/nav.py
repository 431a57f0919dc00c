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
    # Only for district admins, who look after every centre of the deployment.
    district_only: bool = False

    def shown_to(self, staff: StaffAccount) -> bool:
        if self.district_only:
            return staff.is_district_admin
        return staff.is_admin or not self.admin_only


NAV: tuple[NavEntry, ...] = (
    NavEntry("staff.overview", _l("Overview")),
    NavEntry("staff.district", _l("District"), district_only=True),
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
    return [entry for entry in NAV if entry.shown_to(staff)]


def section_of(endpoint: str | None) -> str | None:
    """The nav entry a page belongs to, so ``staff.resident`` highlights ``staff.residents``."""
    if endpoint is None:
        return None
    for entry in NAV:
        if endpoint == entry.endpoint or endpoint.startswith(entry.endpoint.removesuffix("s")):
            return entry.endpoint
    return None
