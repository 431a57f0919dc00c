"""Pairing a kiosk screen with its reader (admins only): the console shows an eight-digit
code, which staff type on the kiosk's reader setup page (kiosk/touch/reader/setup.py)."""

from __future__ import annotations

from flask import g, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from booking.core.errors import DomainError
from devices.kiosk_reader import pairing
from kiosk.extensions import clock, database
from kiosk.staff.admin.forms import DeviceActionForm
from kiosk.staff.auth import admin_required
from kiosk.staff.session import console_site_id


@admin_required
def offer(device_id: str) -> ResponseReturnValue:
    """A new pairing code for the reader, shown on this response only."""
    if not DeviceActionForm().validate_on_submit():
        return redirect(url_for("staff.admin_devices"), 303)
    try:
        with database().write() as session:
            code = pairing.offer_code(
                session, site_id=console_site_id(), device_id=device_id,
                staff_id=g.staff.id, now=clock().now(),
            )  # fmt: skip
    except DomainError:
        return render_template(
            "staff/admin/reader_pairing.html", code=None, device_id=device_id,
            error=_("There is no kiosk reader %(device)s at this centre.", device=device_id),
        ), 404  # fmt: skip
    response = make_response(
        render_template(
            "staff/admin/reader_pairing.html",
            code=f"{code[:4]} {code[4:]}",
            device_id=device_id,
            minutes=int(pairing.CODE_LIFE.total_seconds() // 60),
            error=None,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
