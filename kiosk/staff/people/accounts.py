"""Staff accounts of the centre, for its admins."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from booking.people.models.staff import StaffAccount
from kiosk.extensions import database
from kiosk.staff.auth import admin_required
from kiosk.staff.session import console_site_id


@admin_required
def accounts() -> ResponseReturnValue:
    with database().read() as session:
        found = list(
            session.scalars(
                select(StaffAccount)
                .where(StaffAccount.site_id == console_site_id())
                .order_by(StaffAccount.username)
            )
        )
        return render_template("staff/accounts.html", accounts=found)
