"""Insights: the centre's use as charts for a date range, each with its numbers and a CSV.

The figures come from :mod:`booking.insights.figures`; :mod:`kiosk.staff.insights.labelled`
turns them into labelled charts and tables in the staff member's language; this module reads
the range and answers with the page or a chart's CSV.
"""

from __future__ import annotations

from datetime import date

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms.validators import Optional

from booking.core import sites
from booking.core.errors import InvalidInput
from booking.core.models.sites import Site
from booking.insights.local_time import MAX_RANGE_DAYS, DateRange
from kiosk.extensions import clock, database
from kiosk.form_dates import CenturyDateField
from kiosk.staff.csv_export import csv_lines
from kiosk.staff.insights.labelled import CHARTS
from kiosk.staff.session import console_site_id

DEFAULT_WEEKS = 8


class RangeForm(FlaskForm):  # type: ignore[misc]
    """A GET filter: it changes nothing, so no CSRF token."""

    class Meta:
        csrf = False

    start = CenturyDateField(
        _l("Start date"),
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"type": "date"},
    )
    end = CenturyDateField(
        _l("End date"),
        validators=[Optional()],
        format="%Y-%m-%d",
        render_kw={"type": "date"},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for field in (self.start, self.end):
            # WTForms' own message is English-only; ours goes through the catalogue.
            field.messages = {}

    def chosen_range(self, today: date) -> DateRange:
        """The range asked for; a missing end is today, a missing start the Monday 7 weeks
        before the end's week (8 weeks on the weekly charts)."""
        end = self.end.data or today
        if self.start.data is None:
            return DateRange.recent_weeks(end, DEFAULT_WEEKS)
        return DateRange(self.start.data, end)


# --- the views -------------------------------------------------------------------------------


def _today(session: Session) -> date:
    site = session.get(Site, console_site_id())
    assert site is not None
    return sites.local_time(site, clock().now()).date()


def _range_or_errors(form: RangeForm, session: Session) -> DateRange | None:
    if request.args and not form.validate():
        for field in (form.start, form.end):
            if field.errors:
                field.errors = [_("Enter a date as YYYY-MM-DD.")]
        return None
    try:
        return form.chosen_range(_today(session))
    except InvalidInput as error:
        message = (
            _("The range may be at most %(days)d days.", days=MAX_RANGE_DAYS)
            if "max" in error.details
            else _("The end date is before the start date.")
        )
        form.end.errors = [message]
        return None


def insights_page() -> ResponseReturnValue:
    form = RangeForm(request.args)
    with database().read() as session:
        within = _range_or_errors(form, session)
        if within is None:
            return render_template("staff/insights.html", form=form, charts=[], within=None), 400
        if form.start.data is None:
            form.start.data, form.end.data = within.first, within.last
        shown = [build(session, console_site_id(), within) for build in CHARTS.values()]
        return render_template("staff/insights.html", form=form, charts=shown, within=within)


def insights_csv(chart: str) -> ResponseReturnValue:
    build = CHARTS.get(chart)
    if build is None:
        abort(404)
    form = RangeForm(request.args)
    with database().read() as session:
        within = _range_or_errors(form, session)
        if within is None:
            errors = [e for f in (form.start, form.end) for e in f.errors]
            return Response("\n".join(errors), status=400, mimetype="text/plain")
        table = build(session, console_site_id(), within).table
    filename = f"linli-{chart}-{within.first.isoformat()}-{within.last.isoformat()}.csv"
    return Response(
        "".join(csv_lines(table.header, table.rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
