"""The console's health area: blood-pressure alerts and follow-up tasks, one resident's
readings, the FHIR export, and (admins) the guideline and retention settings. Staff record
a consent the resident signed on paper, and a withdrawal made on paper or by phone.

Lists never show a value: they say what happened ("measured", "urgent") and link to the
resident's health page, whose every opening is written to the audit log.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from booking.alerts import operations as alert_service
from booking.alerts.operations import MAX_NOTE
from booking.core.errors import Conflict, DomainError, InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.health import consent as health_consent
from booking.health import fhir as fhir_export
from booking.health import operations as health
from booking.health.classification import Ruleset
from booking.health.models.consents import ConsentChannel
from booking.people.models.residents import Resident
from kiosk import health_chart, health_words
from kiosk.extensions import clock, database
from kiosk.form_dates import CenturyDateField
from kiosk.staff.alerts import words as alert_words
from kiosk.staff.alerts.forms import AcknowledgeForm, ResolveForm
from kiosk.staff.health import contact
from kiosk.staff.session import console_site_id


class NoteForm(FlaskForm):  # type: ignore[misc]
    next = HiddenField()
    note = TextAreaField(
        _l("Note"),
        validators=[
            InputRequired(_l("Write the note first.")),
            Length(max=MAX_NOTE, message=_l("A note is at most %(max)d characters.", max=MAX_NOTE)),
        ],
    )

    def validate_note(self, field: TextAreaField) -> None:
        if not (field.data or "").strip():
            raise ValidationError(_l("Write the note first."))


class HealthSettingsForm(FlaskForm):  # type: ignore[misc]
    ruleset = SelectField(_l("Guideline for the ranges"), choices=[], validate_choice=True)
    retention_days = IntegerField(
        _l("Keep readings for (days)"),
        invalid_value_message=_l("Enter a whole number of days."),
        validators=[
            InputRequired(_l("Enter a whole number of days.")),
            NumberRange(
                min=health.MIN_RETENTION_DAYS,
                max=health.MAX_RETENTION_DAYS,
                message=_l(
                    "Between %(min)d and %(max)d days.",
                    min=health.MIN_RETENTION_DAYS,
                    max=health.MAX_RETENTION_DAYS,
                ),
            ),
        ],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.ruleset.choices = [
            (r.value, str(health_words.RULESET_NAMES[r.value])) for r in Ruleset
        ]


CHANNEL_NAMES = {
    ConsentChannel.KIOSK: _l("at the kiosk"),
    ConsentChannel.PAPER: _l("paper form"),
    ConsentChannel.PHONE: _l("by phone"),
}


class SignedOnField(CenturyDateField):
    """A date in the form's own words when it is not one (WTForms' message is English only)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter the date as year-month-day, e.g. 2026-11-24.")) from None


class PaperConsentForm(FlaskForm):  # type: ignore[misc]
    signed = BooleanField(
        _l(
            "The resident signed the paper consent form, notice version %(version)s.",
            version=health_consent.NOTICE_VERSION,
        ),
        validators=[DataRequired(_l("Tick the box to confirm the resident signed the form."))],
    )
    signed_on = SignedOnField(
        _l("Date signed"),
        format="%Y-%m-%d",
        validators=[InputRequired(_l("Enter the date the form was signed."))],
    )


class WithdrawalForm(FlaskForm):  # type: ignore[misc]
    channel = RadioField(
        _l("How the resident withdrew"),
        choices=[
            SelectChoice(value=c.value, label=CHANNEL_NAMES[c])
            for c in health_consent.STAFF_WITHDRAWAL_CHANNELS
        ],
        validators=[InputRequired(_l("Say how the resident withdrew."))],
    )
    confirmed = BooleanField(
        _l(
            "The resident withdraws consent. Every stored blood-pressure reading of this "
            "resident will be deleted now and cannot be recovered."
        ),
        validators=[DataRequired(_l("Tick the box to confirm the readings are to be deleted."))],
    )


def _back(default: str, form: FlaskForm) -> str:
    """Where a form returns to: a path of the health area only."""
    target = form.next.data or ""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/staff/health"):
        return default
    return parts.path


def overview(
    settings_form: HealthSettingsForm | None = None, status: int = 200
) -> ResponseReturnValue:
    """Open health alerts and follow-up tasks: who and what, never a value."""
    now = clock().now()
    with database().read() as session:
        found = health.health_alerts(session, site_id=console_site_id())
        names = _names(session, {a.resident_id for a in found if a.resident_id})
        views = [(alert_words.view(a, now), a.resident_id) for a in found]
        settings = health.settings_for(session, console_site_id())
    if settings_form is None and g.staff.is_admin:
        settings_form = HealthSettingsForm(
            formdata=None, ruleset=settings.ruleset.value, retention_days=settings.retention_days
        )
    return (
        render_template(
            "staff/health.html",
            alerts=views,
            names=names,
            settings=settings,
            ruleset_names=health_words.RULESET_NAMES,
            settings_form=settings_form,
            ack_form=AcknowledgeForm(formdata=None),
            note_form=NoteForm(formdata=None),
            resolve_form=ResolveForm(formdata=None),
        ),
        status,
    )


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Resident.id, Resident.name).where(Resident.id.in_(sorted(ids))))
    return {rid: name for rid, name in rows}


def resident(
    resident_id: int,
    consent_form: PaperConsentForm | None = None,
    withdrawal_form: WithdrawalForm | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    """One resident's readings with values, chart and alerts; the view is audited."""
    now = clock().now()
    # A write: the audit entry commits with the view, or there is no view.
    with database().write() as session:
        try:
            member = health.view_resident_health(
                session, g.staff, resident_id=resident_id, now=now, action="health.viewed"
            )
        except NotFound:
            abort(404)
        site = session.get_one(Site, console_site_id())
        readings = health.recent_readings(session, resident_id)
        found = health.health_alerts(
            session, site_id=site.id, resident_id=resident_id, include_resolved=True, limit=50
        )
        if consent_form is None:
            today = now.astimezone(ZoneInfo(site.timezone)).date()
            consent_form = PaperConsentForm(formdata=None, signed_on=today)
        return render_template(
            "staff/health_resident.html",
            resident=member,
            consent=health.consent_in_force(session, resident_id),
            channel_names=CHANNEL_NAMES,
            reading_count=health.count_readings(session, resident_id),
            notice_version=health_consent.NOTICE_VERSION,
            consent_form=consent_form,
            withdrawal_form=withdrawal_form or WithdrawalForm(formdata=None),
            readings=readings,
            chart=health_chart.trend_chart(readings, site.timezone),
            alerts=[alert_words.view(a, now) for a in found],
            words=health_words,
            timezone=ZoneInfo(site.timezone),
            ack_form=AcknowledgeForm(formdata=None),
            note_form=NoteForm(formdata=None),
            resolve_form=ResolveForm(formdata=None),
            **contact.page_extras(session, member),
        ), status


# Why a paper form's date was refused, by the domain's reason code.
SIGNED_ON_REFUSALS = {
    "future": _l("The date signed cannot be in the future."),
    "before_membership": _l("The date signed cannot be before the resident joined the centre."),
}


def record_paper_consent(resident_id: int) -> ResponseReturnValue:
    form = PaperConsentForm()
    if not form.validate_on_submit():
        return resident(resident_id, consent_form=form, status=400)
    try:
        with database().write() as session:
            health_consent.record_paper_consent(
                session,
                g.staff,
                resident_id=resident_id,
                signed_on=form.signed_on.data,
                now=clock().now(),
            )
    except NotFound:
        abort(404)
    except InvalidInput as refused:
        reason = str(refused.details.get("reason", ""))
        form.signed_on.errors.append(SIGNED_ON_REFUSALS.get(reason, _("Check the date signed.")))
        return resident(resident_id, consent_form=form, status=400)
    except Conflict:
        flash(_("A consent is already in force: nothing was changed."), "info")
    else:
        flash(_("Paper consent recorded: the resident's readings will now be kept."), "info")
    return redirect(url_for("staff.health_resident", resident_id=resident_id), 303)


def record_withdrawal(resident_id: int) -> ResponseReturnValue:
    form = WithdrawalForm()
    if not form.validate_on_submit():
        return resident(resident_id, withdrawal_form=form, status=400)
    try:
        with database().write() as session:
            deleted = health_consent.record_withdrawal(
                session,
                g.staff,
                resident_id=resident_id,
                channel=ConsentChannel(form.channel.data),
                now=clock().now(),
            )
    except NotFound:
        abort(404)
    except Conflict:
        flash(_("No consent is in force: nothing was changed."), "info")
    else:
        flash(
            ngettext(
                "Withdrawal recorded: %(num)d stored reading was deleted.",
                "Withdrawal recorded: %(num)d stored readings were deleted.",
                deleted,
            ),
            "info",
        )
    return redirect(url_for("staff.health_resident", resident_id=resident_id), 303)


def export(resident_id: int) -> ResponseReturnValue:
    """The resident's readings as a FHIR R4 Bundle (JSON download); audited."""
    now = clock().now()
    with database().write() as session:
        try:
            health.view_resident_health(
                session, g.staff, resident_id=resident_id, now=now, action="health.exported"
            )
        except NotFound:
            abort(404)
        bundle = fhir_export.export_bundle(
            health.all_readings(session, resident_id), resident_id=resident_id, generated_at=now
        )
    response = Response(
        json.dumps(bundle, ensure_ascii=False, indent=2), mimetype="application/fhir+json"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="linli-bp-resident-{resident_id}-{now:%Y%m%d}.fhir.json"'
    )
    return response


def _alert_action(alert_id: int, form: FlaskForm, act: str) -> ResponseReturnValue:
    back = _back(url_for("staff.health"), form)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(back, 303)
    note = form.note.data or ""
    try:
        with database().write() as session:
            if act == "resolve":
                alert_service.resolve(session, g.staff, alert_id, now=clock().now(), note=note)
            else:
                alert_service.acknowledge(session, g.staff, alert_id, now=clock().now(), note=note)
    except Conflict:
        flash(_("This alert was already resolved."), "info")
    except NotFound:
        abort(404)
    else:
        flash(
            {
                "acknowledge": _("Alert acknowledged: colleagues see that you are on it."),
                "note": _("Note added."),
                "resolve": _("Alert resolved."),
            }[act],
            "info",
        )
    return redirect(back, 303)


def acknowledge(alert_id: int) -> ResponseReturnValue:
    return _alert_action(alert_id, AcknowledgeForm(), "acknowledge")


def add_note(alert_id: int) -> ResponseReturnValue:
    return _alert_action(alert_id, NoteForm(), "note")


def resolve(alert_id: int) -> ResponseReturnValue:
    return _alert_action(alert_id, ResolveForm(), "resolve")


def save_settings() -> ResponseReturnValue:
    if not g.staff.is_admin:
        abort(403)
    form = HealthSettingsForm()
    if not form.validate_on_submit():
        return overview(settings_form=form, status=400)
    try:
        with database().write() as session:
            health.configure(
                session,
                g.staff,
                ruleset=form.ruleset.data,
                retention_days=int(form.retention_days.data),
                now=clock().now(),
            )
    except DomainError:
        return overview(settings_form=form, status=400)
    flash(_("Health settings saved."), "info")
    return redirect(url_for("staff.health"), 303)
