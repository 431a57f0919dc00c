"""The district overview (issue 18): every centre side by side, today and week by week,
for district administrators only; each table also as a CSV.

The figures come from :mod:`booking.insights.district` and :mod:`devices.fleet.district`,
each one statement for all centres; :mod:`kiosk.staff.district.labelled` words and draws them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice

from booking.insights import district
from booking.insights.district import Trend
from devices.fleet.district import offline_by_site
from kiosk.extensions import clock, database
from kiosk.staff.csv_export import csv_lines
from kiosk.staff.district import labelled
from kiosk.staff.insights.labelled import Table

# Where a centre's button goes: the console's centre switcher (kiosk/staff/site_switch.py).
SWITCH_ENDPOINT = "staff.switch_site"
WEEK_CHOICES = (4, 6, 8, 10, 12)
TODAY_CSV = "today"

F = TypeVar("F", bound=Callable[..., Any])


def district_admin_required(view: F) -> F:
    """Only district admins see the district; anyone else signed in is told so, with a 403."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("staff") is None or not g.staff.is_district_admin:
            return render_template("staff/district_refused.html"), 403
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class WeeksForm(FlaskForm):  # type: ignore[misc]
    """A GET filter: it changes nothing, so no CSRF token."""

    class Meta:
        csrf = False

    weeks = SelectField(
        _l("Weeks shown"),
        choices=[SelectChoice(n, str(n)) for n in WEEK_CHOICES],
        coerce=int,
        default=district.DEFAULT_WEEKS,
    )

    def chosen(self) -> int | None:
        """The weeks asked for (the default when none), or None with the field's error set."""
        if not request.args.get("weeks"):  # none asked for: an empty choice is no choice
            return district.DEFAULT_WEEKS
        if not self.validate():
            # WTForms' own message is English-only; ours goes through the catalogue.
            self.weeks.errors = [_("Choose how many weeks to show from the list.")]
            return None
        return int(self.weeks.data)


class SwitchSiteForm(FlaskForm):  # type: ignore[misc]
    """The button that opens one centre's console: the CSRF token and the centre's slug, as a
    hidden field (the switcher itself reads it with kiosk.staff.forms.SiteSwitchForm)."""

    site = HiddenField()


def overview_page() -> ResponseReturnValue:
    form = WeeksForm(request.args)
    weeks = form.chosen()
    now = clock().now()
    with database().read() as session:
        centres = district.all_centres(session)
        today = district.today(session, centres=centres, now=now)
        devices = offline_by_site(session)
        # Weeks refused: today's figures still show, under the form and its message.
        trends = district.weekly(session, centres=centres, now=now, weeks=weeks) if weeks else None
    charts = [labelled.trend_chart(trends, trend) for trend in Trend] if trends else []
    days = sorted({row.day for row in today})
    return render_template(
        "staff/district.html",
        form=form,
        weeks=weeks,
        rows=labelled.today_rows(today, devices),
        totals=labelled.totals(today, devices),
        day=days[-1] if len(days) == 1 else None,
        charts=charts,
        switch_form=SwitchSiteForm(),
        switch_endpoint=SWITCH_ENDPOINT,
    ), (200 if weeks else 400)


def overview_csv(table: str) -> ResponseReturnValue:
    """Today's table (``today``) or a trend's numbers, as a CSV Excel opens in Chinese."""
    if table != TODAY_CSV and table not in {t.value for t in Trend}:
        abort(404)
    form = WeeksForm(request.args)
    weeks = form.chosen()
    if weeks is None:
        return Response("\n".join(form.weeks.errors), status=400, mimetype="text/plain")
    now = clock().now()
    with database().read() as session:
        centres = district.all_centres(session)
        found: Table
        if table == TODAY_CSV:
            today = district.today(session, centres=centres, now=now)
            found = labelled.today_table(today, offline_by_site(session))
            dates = sorted({row.day for row in today}) or [now.date()]
            filename = f"linli-district-today-{dates[-1].isoformat()}.csv"
        else:
            trends = district.weekly(session, centres=centres, now=now, weeks=weeks)
            found = labelled.trend_table(trends, Trend(table))
            first = trends.weeks[0].isoformat() if trends.weeks else now.date().isoformat()
            filename = f"linli-district-{table}-{weeks}-weeks-from-{first}.csv"
    return Response(
        "".join(csv_lines(found.header, found.rows)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def register(bp: Blueprint) -> None:
    """The district overview's URLs on the console's blueprint."""
    bp.add_url_rule("/district", "district", district_admin_required(overview_page))
    bp.add_url_rule("/district/<table>.csv", "district_csv", district_admin_required(overview_csv))
