"""The console's first page: what the staff member's centre has, counted from the database."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from booking.core import sites
from booking.core.models.sites import Site
from booking.lending.models.tools import ItemStatus
from kiosk.extensions import database
from kiosk.staff.session import console_site_id

ITEM_STATUS_LABELS = {
    ItemStatus.AVAILABLE: _l("Available"),
    ItemStatus.RESERVED: _l("Reserved"),
    ItemStatus.ON_LOAN: _l("On loan"),
    ItemStatus.OVERDUE: _l("Overdue"),
    ItemStatus.MAINTENANCE: _l("In maintenance"),
    ItemStatus.LOST: _l("Lost"),
    ItemStatus.MISSING: _l("Missing"),
}


def overview() -> ResponseReturnValue:
    with database().read() as session:
        site = session.get(Site, console_site_id())
        counts = sites.count_site(session, console_site_id())
        # Rendered inside the block: a read session's objects expire when it closes.
        return render_template(
            "staff/overview.html", site=site, counts=counts, item_status_labels=ITEM_STATUS_LABELS
        )
