"""The staff console at ``/staff``: sign-in, overview and residents (later: lending, bookings,
devices and alerts, each a module here and a line in ``nav.NAV``)."""

from __future__ import annotations

from kiosk.staff.blueprint import bp

__all__ = ["bp"]
