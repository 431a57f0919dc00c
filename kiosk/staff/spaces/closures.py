"""Closures (holidays, maintenance) of one room or the whole centre; the domain cancels the
bookings inside and tells each affected resident."""

from __future__ import annotations

from datetime import datetime

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from booking.core import audit
from booking.core.errors import DomainError, NotFound
from booking.core.models.sites import Site
from booking.spaces import closures, schedule
from booking.spaces import rules as booking_rules
from kiosk.extensions import clock, database
from kiosk.staff.session import console_site_id
from kiosk.staff.spaces.calendar import pending_count, space_label
from kiosk.staff.spaces.errors import show_error
from kiosk.staff.spaces.forms import WHOLE_CENTRE, ClosureForm


def _places() -> dict[int, str]:
    """What can close: the whole centre, or one of its rooms."""
    locale = str(get_locale() or "")
    with database().read() as session:
        spaces = schedule.spaces_of(session, site_id=console_site_id())
        return {WHOLE_CENTRE: _("The whole centre")} | {
            space.id: space_label(space, locale) for space in spaces
        }


def _form() -> ClosureForm:
    form = ClosureForm()
    form.space.choices = [SelectChoice(place, name) for place, name in _places().items()]
    return form


def _page(form: ClosureForm | None = None, status: int = 200) -> ResponseReturnValue:
    form = form or _form()
    with database().read() as session:
        site = session.get_one(Site, console_site_id())
        upcoming = closures.closures_of(session, site_id=site.id, now=clock().now())
        rooms = _places()
        return render_template(
            "staff/bookings_closures.html",
            form=form,
            upcoming=upcoming,
            rooms=rooms,
            whole_centre=WHOLE_CENTRE,
            pending=pending_count(site.id),
        ), status


def closure_list() -> ResponseReturnValue:
    return _page()


def _site_time(site: Site, wall: datetime) -> datetime:
    """A wall-clock time typed at the desk, at the centre's timezone, as aware UTC."""
    return booking_rules.at_local(site, wall.date(), wall.time())


def declare() -> ResponseReturnValue:
    form = _form()
    if not form.validate_on_submit():
        return _page(form, status=400)
    now = clock().now()
    try:
        with database().write() as session:
            site = session.get_one(Site, console_site_id())
            closure = closures.declare_closure(
                session,
                staff_id=g.staff.id,
                site_id=site.id,
                space_id=form.space.data or None,
                starts_at=_site_time(site, form.starts_at.data),
                ends_at=_site_time(site, form.ends_at.data),
                reason=form.reason.data or "",
                now=now,
            )
            audit.record_staff(
                session,
                g.staff,
                action="closure.declare",
                now=now,
                subject=f"closure:{closure.id}",
                detail={
                    "space_id": closure.space_id,
                    "starts_at": closure.starts_at.isoformat(),
                    "ends_at": closure.ends_at.isoformat(),
                    "reason": closure.reason,
                },
            )
    except NotFound:
        raise
    except DomainError as error:
        show_error(form, error)
        return _page(form, status=error.status)
    flash(_("Closure declared. Residents with bookings then have been told."), "success")
    return redirect(url_for("staff.booking_closures"), code=303)
