"""The audit log, read-only: who did what and when, filtered by person, action and date.

There is no route that changes an entry: the log is append-only (:mod:`booking.core.audit`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from booking.core import audit
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people.models.staff import StaffAccount
from kiosk.extensions import database
from kiosk.form_dates import CenturyDateField
from kiosk.staff.forms import query_text

PAGE_SIZE = 50
MAX_FILTER = 80


class AuditFilterForm(FlaskForm):  # type: ignore[misc]
    """A GET filter: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False

    person = StringField(
        _l("Person"),
        description=_l("A staff username, or staff:…, resident:…, device:…, system"),
        render_kw={"list": "audit-people"},
        validators=[
            Optional(),
            Length(max=MAX_FILTER, message=_l("At most %(max)d characters.", max=MAX_FILTER)),
        ],
    )
    action = StringField(
        _l("Action (or its start, e.g. alert.)"),
        render_kw={"list": "audit-actions"},
        validators=[
            Optional(),
            Length(max=MAX_FILTER, message=_l("At most %(max)d characters.", max=MAX_FILTER)),
        ],
    )
    date_from = CenturyDateField(_l("From"), validators=[Optional()], format="%Y-%m-%d")
    date_to = CenturyDateField(_l("Until"), validators=[Optional()], format="%Y-%m-%d")
    page = IntegerField(
        invalid_value_message=_l("Page must be a whole number from 1."),
        validators=[
            Optional(),
            NumberRange(min=1, max=10000, message=_l("Page must be a whole number from 1.")),
        ],
    )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))


def actor_of(person: str) -> str:
    """A bare username means the staff account; ``kind:who`` is taken as written."""
    person = person.strip()
    return person if ":" in person or person == "system" else f"staff:{person}"


def _start_of(day: date | None, zone: ZoneInfo) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    with database().read() as session:
        usernames = list(
            session.scalars(
                select(StaffAccount.username)
                .where(StaffAccount.site_id == g.staff.site_id)
                .order_by(StaffAccount.username)
            )
        )
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.site_id == g.staff.site_id)
                .distinct()
                .order_by(AuditEntry.action)
            )
        )
        if not form.validate():
            return render_template(
                "staff/audit_log.html",
                form=form,
                entries=None,
                usernames=usernames,
                actions=actions,
            ), 400
        zone = ZoneInfo(session.get_one(Site, g.staff.site_id).timezone)
        page = form.page.data or 1
        found = audit.entries(
            session,
            site_id=g.staff.site_id,
            actor=actor_of(form.person.data) if form.person.data else None,
            action=(form.action.data or "").strip() or None,
            since=_start_of(form.date_from.data, zone),
            until=_start_of(form.date_to.data + timedelta(days=1), zone)
            if form.date_to.data
            else None,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        rows = [
            {
                "at": entry.at,
                "actor": entry.actor,
                "action": entry.action,
                "subject": entry.subject,
                "detail": dict(entry.detail or {}),
            }
            for entry in found[:PAGE_SIZE]
        ]
    filters = query_text(form, ("person", "action", "date_from", "date_to"))
    return render_template(
        "staff/audit_log.html",
        form=form,
        entries=rows,
        page=page,
        has_next=len(found) > PAGE_SIZE,
        filters=filters,
        usernames=usernames,
        actions=actions,
    )
