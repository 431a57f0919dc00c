"""Stopping a resident's private calendar link from the resident's page: the resident lost
their phone, or shared the link by mistake, and asks at the desk. They make a new one on
their phone (/m) when they want it again."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from booking.core import audit
from booking.people import calendar_feeds
from booking.people import residents as resident_service
from kiosk.extensions import clock, database
from kiosk.staff.session import console_site_id


class RevokeFeedForm(FlaskForm):  # type: ignore[misc]
    """Nothing to fill in: the CSRF token is the whole form."""


def revoke(resident_id: int) -> ResponseReturnValue:
    if not RevokeFeedForm().validate_on_submit():
        abort(400)
    with database().write() as session:
        # A resident of another centre answers 404 like one who does not exist.
        member = resident_service.get_member(
            session, site_id=console_site_id(), resident_id=resident_id
        )
        stopped = calendar_feeds.revoke_feed(
            session, resident_id=member.id, site_id=console_site_id(),
            actor=audit.staff_actor(g.staff), staff_id=g.staff.id, now=clock().now(),
        )  # fmt: skip
    if stopped:
        flash(_("The resident's calendar link has stopped working."), "success")
    return redirect(url_for("staff.resident", resident_id=resident_id), code=303)
