"""The kiosk's tools ahead of time: reserving a tool for a day and a window, queueing for
one when none is free, cancelling either, and renewing a loan (from "my tools").

Each is one POST into a domain service through :mod:`kiosk.touch.lending.reserving` (which
the phone page shares); the outcome is flashed in the resident's words, and a refusal changes
nothing. The held tool itself is opened like staff's holds, from the tool pages.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from booking.core.errors import DomainError
from booking.lending import catalogue as lending_catalogue
from kiosk.extensions import clock, database
from kiosk.touch import session as kiosk_session
from kiosk.touch.controllers import SERVICES_BY_SLUG
from kiosk.touch.forms import ReserveToolForm
from kiosk.touch.lending import reserving
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required

SERVICE = SERVICES_BY_SLUG["tools"]


def _flash(outcome: reserving.Outcome) -> None:
    flash(outcome.words, "info" if outcome.done else "error")


@resident_required
def reserve_form(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    """Choose a day and a window for a tool."""
    site = kiosk_session.current_site()
    with database().read() as session:
        try:
            tool_type = lending_catalogue.get_tool_type(
                session, site_id=site.id, tool_type_id=tool_type_id
            )
        except DomainError:
            abort(404)
        names = {"name_zh": tool_type.name_zh, "name_en": tool_type.name_en,
                 "icon": tool_type.icon}  # fmt: skip
    return render_template(
        "touch/tools_reserve.html", service=SERVICE, tool=names, tool_type_id=tool_type_id,
        days=reserving.days(clock().now(), site.timezone), windows=reserving.WINDOWS,
    )  # fmt: skip


@resident_required
def reserve(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    outcome = reserving.reserve(
        site_id=site.id, timezone=site.timezone, resident_id=resident.id,
        tool_type_id=tool_type_id, form=ReserveToolForm.read(), now=clock().now(),
    )  # fmt: skip
    _flash(outcome)
    if not outcome.done:
        return redirect(url_for("touch.reserve_tool_form", tool_type_id=tool_type_id))
    return redirect(url_for("touch.tools_mine", _anchor="my-reservations"))


@resident_required
def join_queue(resident: KioskResident, tool_type_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    outcome = reserving.join_queue(site_id=site.id, timezone=site.timezone,
                                   resident_id=resident.id, tool_type_id=tool_type_id,
                                   now=clock().now())  # fmt: skip
    _flash(outcome)
    if not outcome.done:
        return redirect(url_for("touch.tools", _anchor=f"tool-{tool_type_id}"))
    return redirect(url_for("touch.tools_mine", _anchor="my-reservations"))


@resident_required
def cancel(resident: KioskResident, reservation_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    _flash(reserving.cancel(site_id=site.id, timezone=site.timezone, resident_id=resident.id,
                            reservation_id=reservation_id, now=clock().now()))  # fmt: skip
    return redirect(url_for("touch.tools_mine", _anchor="my-reservations"))


@resident_required
def renew(resident: KioskResident, loan_id: int) -> ResponseReturnValue:
    site = kiosk_session.current_site()
    _flash(reserving.renew(site_id=site.id, timezone=site.timezone, resident_id=resident.id,
                           loan_id=loan_id, now=clock().now()))  # fmt: skip
    return redirect(url_for("touch.tools_mine", _anchor=f"loan-{loan_id}"))
