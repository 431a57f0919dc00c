"""Resetting a forgotten PIN from the resident's page: staff confirm they checked who the
resident is, the old PIN stops working at once, and the one-time code goes to the resident
on a printed slip or, where SMS reaches phones, by SMS to their own phone (the resident
chooses the new PIN at the kiosk or on their phone; staff never see or type it).

The SMS holds the code alone, never a PIN; staff see only the phone's last four digits."""

from __future__ import annotations

from datetime import datetime

from flask import flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from booking.core import audit
from booking.core.models.sites import Site
from booking.messages import sign_in_codes
from booking.people import one_time_codes
from booking.people import residents as resident_service
from booking.people.models.resident_codes import CodePurpose
from kiosk.extensions import clock, database
from kiosk.messaging import sms_config
from kiosk.staff.people.code_slip import slip_page
from kiosk.staff.people.resident_page import ResetPinForm, resident_page_with
from kiosk.staff.session import console_site_id

NOT_REACHABLE = _l("This resident's phone cannot be sent messages. Print the code instead.")
NO_SMS_HERE = _l("Text messages do not reach phones here. Print the code instead.")
SENT_BY_SMS = _l(
    "The PIN is reset. The code is on its way by SMS to the phone ending %(tail)s: "
    "the resident types it at the kiosk or on their phone within 24 hours."
)


def reset_pin(resident_id: int) -> ResponseReturnValue:
    form = ResetPinForm()
    if not form.validate_on_submit():
        return resident_page_with(resident_id, pin_reset_form=form, status=400)
    by_sms = form.deliver.data == "sms"
    if by_sms and not sms_config.reaches_phones():
        # Refused before the code is issued: the PIN still works, nothing changed.
        form.deliver.errors = [str(NO_SMS_HERE)]
        return resident_page_with(resident_id, pin_reset_form=form, status=400)
    now = clock().now()
    try:
        return _reset(resident_id, by_sms=by_sms, now=now)
    except sign_in_codes.CodeNotSendable:
        # Rolled back with the code: the PIN still works, nothing changed.
        form.deliver.errors = [str(NOT_REACHABLE)]
        return resident_page_with(resident_id, pin_reset_form=form, status=409)


def _reset(resident_id: int, *, by_sms: bool, now: datetime) -> ResponseReturnValue:
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
        if not by_sms:
            site = session.get_one(Site, console_site_id())
            return slip_page(site, member, issued)
        sign_in_codes.queue_code(session, site_id=console_site_id(), issued=issued, now=now)
        tail = member.phone[-4:]
    flash(str(SENT_BY_SMS) % {"tail": tail}, "success")
    return redirect(url_for("staff.resident", resident_id=resident_id, _anchor="pin-heading"))
