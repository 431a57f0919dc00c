"""Clearing a resident's failed sign-ins from the resident's page: the resident stands at the
desk, has shown who they are, and should not wait out a delay their own slips (or a
stranger's) built up."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import ngettext
from flask_wtf import FlaskForm

from booking.people import residents as resident_service
from booking.people import sign_in_guard
from kiosk.extensions import clock, database
from kiosk.staff.session import console_site_id


class ClearFailuresForm(FlaskForm):  # type: ignore[misc]
    """Nothing to fill in: the CSRF token is the whole form."""


def clear(resident_id: int) -> ResponseReturnValue:
    if not ClearFailuresForm().validate_on_submit():
        abort(400)
    with database().write() as session:
        # A resident of another centre answers 404 like one who does not exist.
        member = resident_service.get_member(
            session, site_id=console_site_id(), resident_id=resident_id
        )
        cleared = sign_in_guard.clear_resident_failures(
            session, staff=g.staff, resident=member, now=clock().now()
        )
    flash(ngettext("%(num)d failed sign-in cleared.", "%(num)d failed sign-ins cleared.", cleared),
          "success")  # fmt: skip
    return redirect(url_for("staff.resident", resident_id=resident_id), code=303)
