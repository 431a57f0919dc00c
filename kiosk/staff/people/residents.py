"""Residents of the staff member's centre: search and pages of 50 (one resident's page is
:mod:`kiosk.staff.people.resident_page`)."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from booking.people import residents as resident_service
from booking.people import visits
from kiosk.extensions import database
from kiosk.staff.forms import ResidentSearchForm
from kiosk.staff.session import console_site_id


def residents() -> ResponseReturnValue:
    form = ResidentSearchForm(request.args)
    if request.args and not form.validate():
        return render_template("staff/residents.html", form=form, result=None), 400
    query = (form.q.data or "").strip()
    with database().read() as session:
        result = resident_service.resident_page(
            session, site_id=console_site_id(), query=query, page=form.page.data or 1,
            status=form.status.data or "",
        )  # fmt: skip
        # Visitors from another centre of the district are marked with their home centre.
        visitors = visits.visitors_here(
            session, site_id=console_site_id(), resident_ids=[r.id for r in result.residents]
        )
        # Rendered inside the block: a read session's objects expire when it closes.
        return render_template(
            "staff/residents.html", form=form, result=result, query=query,
            status=form.status.data or None, visitors=visitors,
        )  # fmt: skip
