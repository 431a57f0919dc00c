"""No-show strikes of the last 30 days and the seat-booking suspensions in force; staff may
lift a suspension early, with a reason that is recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import flash, g, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from booking.core.errors import DomainError
from booking.core.models.sites import Site
from booking.spaces import strikes
from kiosk.extensions import clock, database
from kiosk.staff.row_actions import answer_row_form, row_forms
from kiosk.staff.session import console_site_id
from kiosk.staff.spaces.calendar import pending_count
from kiosk.staff.spaces.errors import show_error
from kiosk.staff.spaces.forms import LiftForm

STRIKES_SHOWN = timedelta(days=30)


def _lift_form(suspension_id: int) -> LiftForm:
    return LiftForm(prefix=f"lift-{suspension_id}")


def _page(failed: tuple[int, LiftForm] | None = None, status: int = 200) -> ResponseReturnValue:
    now = clock().now()
    with database().read() as session:
        site = session.get_one(Site, console_site_id())
        suspended = strikes.current_suspensions(session, site_id=site.id, now=now)
        given = strikes.recent_strikes(session, site_id=site.id, since=now - STRIKES_SHOWN)
        forms = row_forms((suspension.id for suspension, _r in suspended), _lift_form, failed)
        return render_template(
            "staff/bookings_suspensions.html",
            suspended=suspended,
            given=given,
            lift_forms=forms,
            pending=pending_count(site.id),
        ), status


def suspensions() -> ResponseReturnValue:
    return _page()


def lift(suspension_id: int) -> ResponseReturnValue:
    form = _lift_form(suspension_id)

    def lift_it(session: Session, now: datetime) -> None:
        # Audited by the service, as the resident page's lift is.
        strikes.lift_suspension(
            session, staff_id=g.staff.id, site_id=console_site_id(),
            suspension_id=suspension_id, reason=form.reason.data or "", now=now,
        )  # fmt: skip

    def no_longer_in_force(error: DomainError) -> ResponseReturnValue | None:
        if error.code != "suspension_not_active":
            return None
        flash(_("This suspension is no longer in force; nothing was changed."), "error")
        return _page(status=error.status)

    return answer_row_form(
        suspension_id,
        form,
        lift_it,
        page=_page,
        show_error=show_error,
        done=_("The suspension is lifted."),
        back=url_for("staff.booking_suspensions"),
        refused=no_longer_in_force,
    )
