"""The alerts inbox: open alerts urgent first, acknowledge and resolve them, resolved history.

New alerts arrive on the open page without a reload through :mod:`kiosk.staff.alerts.stream`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf

from booking.alerts import history as alert_history
from booking.alerts import operations as alert_service
from booking.core.errors import Conflict
from booking.core.models.sites import Site
from kiosk.extensions import clock, database
from kiosk.staff.alerts import stream as alert_stream
from kiosk.staff.alerts import words as alert_words
from kiosk.staff.alerts.forms import AcknowledgeForm, HistoryFilterForm, ResolveForm
from kiosk.staff.forms import query_text
from kiosk.staff.session import console_site_id


def inbox(
    ack_form: AcknowledgeForm | None = None,
    resolve_form: ResolveForm | None = None,
    failed_alert_id: int | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """Open and acknowledged alerts, urgent first, newest first within a severity."""
    now = clock().now()
    with database().read() as session:
        found = alert_service.open_alerts(session, site_id=console_site_id())
        views = [alert_words.view(alert, now) for alert in found]
        latest = alert_history.latest_alert_id(session, site_id=console_site_id())
    # The token goes into the page's session now, before the live stream renders forms with it.
    generate_csrf()
    return (
        render_template(
            "staff/alerts.html",
            alerts=views,
            latest_id=latest,
            changes_from=alert_stream.to_ms(now),
            ack_form=ack_form or AcknowledgeForm(formdata=None),
            resolve_form=resolve_form or ResolveForm(formdata=None),
            failed_alert_id=failed_alert_id,
        ),
        status,
    )


def acknowledge(alert_id: int) -> ResponseReturnValue:
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return inbox(ack_form=form, failed_alert_id=alert_id, status=400)
    done = _("Alert acknowledged: colleagues see that you are on it.")
    return _change(alert_service.acknowledge, alert_id, form.note.data or "", done)


def resolve(alert_id: int) -> ResponseReturnValue:
    form = ResolveForm()
    if not form.validate_on_submit():
        return inbox(resolve_form=form, failed_alert_id=alert_id, status=400)
    return _change(alert_service.resolve, alert_id, form.note.data or "", _("Alert resolved."))


def _change(act: Callable[..., object], alert_id: int, note: str, done: str) -> ResponseReturnValue:
    """Acknowledge or resolve, then back to the inbox; an alert already closed is no error."""
    try:
        with database().write() as session:
            act(session, g.staff, alert_id, now=clock().now(), note=note)
    except Conflict:
        flash(_("This alert was already resolved."), "info")
    else:
        flash(done, "info")
    return redirect(url_for("staff.alerts"), 303)


def history() -> ResponseReturnValue:
    form = HistoryFilterForm(request.args)
    form.kind.choices = [("", _("All kinds"))] + [
        (kind, str(label)) for kind, label in alert_words.KIND_LABELS.items()
    ]
    now = clock().now()
    if not form.validate():
        return render_template("staff/alerts_history.html", form=form, result=None), 400
    with database().read() as session:
        site = session.get_one(Site, console_site_id())
        zone = ZoneInfo(site.timezone)
        result = alert_history.resolved_alerts(
            session,
            site_id=site.id,
            kind=form.kind.data or None,
            since=_start_of(form.date_from.data, zone),
            until=_start_of(form.date_to.data + timedelta(days=1), zone)
            if form.date_to.data
            else None,
            page=form.page.data or 1,
        )
        views = [alert_words.view(alert, now) for alert in result.alerts]
    return render_template(
        "staff/alerts_history.html",
        form=form,
        result=result,
        alerts=views,
        filters={"kind": form.kind.data or None, **query_text(form, ("date_from", "date_to"))},
    )


def _start_of(day: date | None, zone: ZoneInfo) -> datetime | None:
    """Local midnight of ``day`` at the site, in UTC (the database stores UTC)."""
    if day is None:
        return None
    return datetime.combine(day, time(0), zone).astimezone(UTC)
