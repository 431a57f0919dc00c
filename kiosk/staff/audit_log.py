"""The audit log, read-only: who did what and when, filtered by person, action and date.

There is no route that changes an entry: the log is append-only (:mod:`booking.core.audit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import DateField, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from booking.core import audit
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people.models.residents import Resident, mask_name
from booking.people.models.staff import StaffAccount
from kiosk.extensions import database
from kiosk.form_dates import CenturyDateField
from kiosk.staff import audit_details, audit_words
from kiosk.staff.forms import query_text
from kiosk.staff.session import console_site_id

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


def _names(session: Session, site_id: int, entries: Sequence[AuditEntry]) -> audit_words.Names:
    """The staff and residents the entries name, looked up once for the page."""
    staff = session.execute(
        select(StaffAccount.id, StaffAccount.username, StaffAccount.display_name).where(
            StaffAccount.site_id == site_id
        )
    ).all()
    numbers = {
        int(who)
        for entry in entries
        for kind, _sep, who in (entry.actor.partition(":"), entry.subject.partition(":"))
        if kind == "resident" and who.isdigit()
    } | {
        int(number)
        for entry in entries
        if str(number := (entry.detail or {}).get("resident_id", "")).isdigit()
    }
    # Masked, as any centre's staff may read a resident's name.
    residents = session.execute(
        select(Resident.id, Resident.name).where(Resident.id.in_(numbers))
    ).all()
    return audit_words.Names(
        staff_by_username={row.username: row.display_name for row in staff},
        staff_by_id={str(row.id): row.display_name for row in staff},
        residents={str(row.id): mask_name(row.name) for row in residents if row.name},
    )


def audit_log() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    with database().read() as session:
        usernames = list(
            session.scalars(
                select(StaffAccount.username)
                .where(StaffAccount.site_id == console_site_id())
                .order_by(StaffAccount.username)
            )
        )
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.site_id == console_site_id())
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
                actions=_worded(actions),
            ), 400
        zone = ZoneInfo(session.get_one(Site, console_site_id()).timezone)
        page = form.page.data or 1
        found = audit.entries(
            session,
            site_id=console_site_id(),
            actor=actor_of(form.person.data) if form.person.data else None,
            action=(form.action.data or "").strip() or None,
            since=_start_of(form.date_from.data, zone),
            until=_start_of(form.date_to.data + timedelta(days=1), zone)
            if form.date_to.data
            else None,
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        shown = found[:PAGE_SIZE]
        names = _names(session, console_site_id(), shown)
        rows = [
            {
                "at": entry.at,
                "actor": audit_words.actor_words(entry.actor, names),
                "action": audit_words.action_words(entry.action),
                "subject": audit_words.subject_words(entry.subject, names),
                "detail": audit_details.detail_words(
                    dict(entry.detail or {}), entry.subject, names
                ),
            }
            for entry in shown
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
        actions=_worded(actions),
    )


def _worded(actions: list[str]) -> list[tuple[str, str]]:
    """The filter's suggestions: each code staff may type, labelled with its words."""
    return [(action, audit_words.action_words(action).text) for action in actions]
