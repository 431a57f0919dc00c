"""Weekly series of room bookings (tai-chi every Tuesday): create, skip a date, end early."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from booking.core import audit
from booking.core.errors import DomainError, NotFound
from booking.core.models.sites import Site
from booking.spaces import rules as booking_rules
from booking.spaces import schedule, series
from booking.spaces.models.spaces import SpaceKind
from kiosk.extensions import clock, database
from kiosk.staff.session import console_site_id
from kiosk.staff.spaces.calendar import pending_count, space_label
from kiosk.staff.spaces.errors import show_error
from kiosk.staff.spaces.forms import WEEKDAYS, SeriesEndForm, SeriesExceptionForm, SeriesForm


def _room_names(session: Session, site_id: int) -> dict[int, str]:
    locale = str(get_locale() or "")
    return {
        space.id: space_label(space, locale)
        for space in schedule.spaces_of(session, site_id=site_id)
        if space.kind is SpaceKind.ACTIVITY
    }


def _create_form() -> SeriesForm:
    form = SeriesForm(prefix="new")
    with database().read() as session:
        names = _room_names(session, console_site_id())
    form.space.choices = [SelectChoice(space_id, name) for space_id, name in names.items()]
    return form


def _page(
    create: SeriesForm | None = None,
    failed: tuple[int, SeriesExceptionForm | SeriesEndForm] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    create = create or _create_form()
    with database().read() as session:
        site = session.get_one(Site, console_site_id())
        found = series.series_of(session, site_id=site.id)
        today = booking_rules.local_date(site, clock().now())
        rooms = _room_names(session, site.id)
        skip_forms = {s.id: SeriesExceptionForm(prefix=f"skip-{s.id}") for s in found}
        end_forms = {s.id: SeriesEndForm(prefix=f"end-{s.id}") for s in found}
        if failed is not None:
            series_id, form = failed
            (skip_forms if isinstance(form, SeriesExceptionForm) else end_forms)[series_id] = form
        return render_template(
            "staff/bookings_series.html",
            create=create,
            found=found,
            rooms=rooms,
            weekdays=WEEKDAYS,
            today=today,
            skip_forms=skip_forms,
            end_forms=end_forms,
            pending=pending_count(site.id),
        ), status


def series_list() -> ResponseReturnValue:
    return _page()


def create() -> ResponseReturnValue:
    form = _create_form()
    if not form.validate_on_submit():
        return _page(create=form, status=400)
    now = clock().now()
    try:
        with database().write() as session:
            made, result = series.create_series(
                session,
                staff_id=g.staff.id,
                site_id=console_site_id(),
                space_id=form.space.data,
                title=form.title.data or "",
                weekday=form.weekday.data,
                start_time=form.start_time.data,
                end_time=form.end_time.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                headcount=form.headcount.data,
                now=now,
            )
            audit.record_staff(
                session,
                g.staff,
                action="series.create",
                now=now,
                subject=f"series:{made.id}",
                detail={
                    "title": made.title,
                    "space_id": made.space_id,
                    "booked": [d.isoformat() for d in result.created],
                    "taken": [d.isoformat() for d in result.taken],
                },
            )
    except NotFound:
        raise
    except DomainError as error:
        show_error(form, error, {"space_id": "space"})
        return _page(create=form, status=error.status)
    flash(
        _(
            "Series created: %(booked)d meetings booked.",
            booked=len(result.created),
        ),
        "success",
    )
    if result.taken or result.closed:
        flash(
            _(
                "Not booked, because someone else holds the room or it is closed: %(dates)s.",
                dates=", ".join(d.isoformat() for d in sorted(result.taken + result.closed)),
            ),
            "error",
        )
    return redirect(url_for("staff.booking_series"), code=303)


def add_exception(series_id: int) -> ResponseReturnValue:
    form = SeriesExceptionForm(prefix=f"skip-{series_id}")
    if not form.validate_on_submit():
        return _page(failed=(series_id, form), status=400)
    now = clock().now()
    try:
        with database().write() as session:
            series.add_exception(
                session,
                staff_id=g.staff.id,
                site_id=console_site_id(),
                series_id=series_id,
                on_date=form.on_date.data,
                now=now,
            )
            audit.record_staff(
                session,
                g.staff,
                action="series.exception",
                now=now,
                subject=f"series:{series_id}",
                detail={"on_date": form.on_date.data.isoformat()},
            )
    except NotFound:
        raise
    except DomainError as error:
        show_error(form, error)
        return _page(failed=(series_id, form), status=error.status)
    flash(_("The series skips %(date)s.", date=form.on_date.data.isoformat()), "success")
    return redirect(url_for("staff.booking_series"), code=303)


def end(series_id: int) -> ResponseReturnValue:
    form = SeriesEndForm(prefix=f"end-{series_id}")
    if not form.validate_on_submit():
        return _page(failed=(series_id, form), status=400)
    now = clock().now()
    try:
        with database().write() as session:
            ended = series.end_series(
                session,
                staff_id=g.staff.id,
                site_id=console_site_id(),
                series_id=series_id,
                last_date=form.last_date.data,
                now=now,
            )
            audit.record_staff(
                session,
                g.staff,
                action="series.end",
                now=now,
                subject=f"series:{series_id}",
                detail={"last_date": form.last_date.data.isoformat()},
            )
            title = ended.title
    except NotFound:
        raise
    except DomainError as error:
        show_error(form, error)
        return _page(failed=(series_id, form), status=error.status)
    flash(_("%(title)s ends; its later meetings are cancelled.", title=title), "success")
    return redirect(url_for("staff.booking_series"), code=303)
