"""Room bookings waiting for approval: approve, or refuse with a reason the resident reads."""

from __future__ import annotations

from datetime import datetime

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from booking.core.models.sites import Site
from booking.spaces import rooms, schedule
from kiosk.extensions import database
from kiosk.staff.row_actions import answer_row_form, row_forms, run_or_refusal
from kiosk.staff.session import console_site_id
from kiosk.staff.spaces.calendar import pending_count, space_label
from kiosk.staff.spaces.errors import MESSAGES, show_error
from kiosk.staff.spaces.forms import ApproveForm, RejectForm


def _reject_form(booking_id: int) -> RejectForm:
    return RejectForm(prefix=f"reject-{booking_id}")


def _page(failed: tuple[int, RejectForm] | None = None, status: int = 200) -> ResponseReturnValue:
    with database().read() as session:
        site = session.get_one(Site, console_site_id())
        waiting = schedule.pending_approvals(session, site_id=site.id)
        forms = row_forms((booking.id for booking, _r, _s in waiting), _reject_form, failed)
        return render_template(
            "staff/bookings_approvals.html",
            site=site,
            waiting=waiting,
            reject_forms=forms,
            approve_form=ApproveForm(),
            space_label=space_label,
            pending=pending_count(site.id),
        ), status


def approvals() -> ResponseReturnValue:
    return _page()


def approve(booking_id: int) -> ResponseReturnValue:
    if not ApproveForm().validate_on_submit():
        return _page(status=400)

    def approve_it(session: Session, now: datetime) -> None:
        # Audited by the service, in this transaction.
        rooms.approve(
            session, staff_id=g.staff.id, site_id=console_site_id(), booking_id=booking_id,
            now=now,
        )  # fmt: skip

    error = run_or_refusal(approve_it)
    if error is not None:
        flash(str(MESSAGES.get(error.code, error.message)), "error")
        return _page(status=error.status)
    flash(_("Approved. The resident will see it at the kiosk."), "success")
    return redirect(url_for("staff.booking_approvals"), code=303)


def reject(booking_id: int) -> ResponseReturnValue:
    form = _reject_form(booking_id)

    def reject_it(session: Session, now: datetime) -> None:
        rooms.reject(
            session, staff_id=g.staff.id, site_id=console_site_id(), booking_id=booking_id,
            reason=form.reason.data or "", now=now,
        )  # fmt: skip

    return answer_row_form(
        booking_id,
        form,
        reject_it,
        page=_page,
        show_error=show_error,
        done=_("Refused. The resident will see the reason at the kiosk."),
        back=url_for("staff.booking_approvals"),
    )
