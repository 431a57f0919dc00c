"""Resetting a forgotten PIN from the resident's page: staff confirm they checked who the
resident is, the old PIN stops working at once, and a slip with a one-time code is printed
(the resident chooses the new PIN at the kiosk; staff never see or type it)."""

from __future__ import annotations

from flask import g
from flask.typing import ResponseReturnValue

from booking.core import audit
from booking.core.models.sites import Site
from booking.people import one_time_codes
from booking.people import residents as resident_service
from booking.people.models.resident_codes import CodePurpose
from kiosk.extensions import clock, database
from kiosk.staff.people.code_slip import slip_page
from kiosk.staff.people.resident_page import ResetPinForm, resident_page_with
from kiosk.staff.session import console_site_id


def reset_pin(resident_id: int) -> ResponseReturnValue:
    form = ResetPinForm()
    if not form.validate_on_submit():
        return resident_page_with(resident_id, pin_reset_form=form, status=400)
    now = clock().now()
    with database().write() as session:
        # A resident of another centre answers 404 like one who does not exist.
        member = resident_service.get_member(
            session, site_id=console_site_id(), resident_id=resident_id
        )
        issued = one_time_codes.issue_code(
            session, resident_id=member.id, site_id=console_site_id(),
            purpose=CodePurpose.PIN_RESET, now=now, actor=audit.staff_actor(g.staff),
            staff_id=g.staff.id,
        )  # fmt: skip
        site = session.get(Site, console_site_id())
        assert site is not None
        return slip_page(site, member, issued)
