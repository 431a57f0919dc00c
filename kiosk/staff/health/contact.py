"""A health follow-up to a resident's emergency contact, from the resident's health page:
staff record the resident's consent (yes or no), and with it send the contact a message that
names the resident and the centre, never a reading (booking.messages.health_contact)."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from booking.messages import health_contact, kinds, preferences
from booking.people import residents as resident_service
from booking.people.models.residents import Resident
from kiosk.extensions import clock, database
from kiosk.staff.session import console_site_id

ANSWERS = {"yes": True, "no": False}


class ContactConsentForm(FlaskForm):  # type: ignore[misc]
    answer = RadioField(
        _l("The resident's answer"),
        choices=[
            SelectChoice(value="yes", label=_l("Yes: the contact may be messaged")),
            SelectChoice(value="no", label=_l("No")),
        ],
        validators=[InputRequired(_l("Choose the resident's answer."))],
    )


class ContactMessageForm(FlaskForm):  # type: ignore[misc]
    """Only its CSRF token: the message's words are fixed."""


def page_extras(session: Session, member: Resident) -> dict[str, Any]:
    """What the health page shows of the emergency contact and the resident's consent."""
    return {
        "contact_phone_known": bool(member.emergency_contact_phone),
        "contact_consent": preferences.wants(
            session, resident_id=member.id, kind=kinds.HEALTH_CONTACT
        ),
        "contact_consent_form": ContactConsentForm(formdata=None),
        "contact_message_form": ContactMessageForm(formdata=None),
    }


def _back(resident_id: int) -> ResponseReturnValue:
    return redirect(url_for("staff.health_resident", resident_id=resident_id) + "#contact", 303)


def record_consent(resident_id: int) -> ResponseReturnValue:
    form = ContactConsentForm()
    if not form.validate_on_submit():
        flash(_("Choose the resident's answer."), "error")
        return _back(resident_id)
    with database().write() as session:
        resident_service.get_member(session, site_id=console_site_id(), resident_id=resident_id)
        health_contact.record_consent(
            session, resident_id=resident_id, consents=ANSWERS[form.answer.data],
            staff_id=g.staff.id, now=clock().now(),
        )  # fmt: skip
    flash(_("The resident's answer is recorded."), "info")
    return _back(resident_id)


def message_contact(resident_id: int) -> ResponseReturnValue:
    if not ContactMessageForm().validate_on_submit():
        flash(_("The form was out of date: please try again."), "error")
        return _back(resident_id)
    try:
        with database().write() as session:
            resident_service.get_member(session, site_id=console_site_id(), resident_id=resident_id)
            health_contact.message_contact(
                session, site_id=console_site_id(), resident_id=resident_id, now=clock().now()
            )
    except health_contact.NoContactConsent:
        flash(_("No message: the resident has not agreed, or has no contact phone."), "error")
    else:
        flash(_("A message to the emergency contact is on its way."), "info")
    return _back(resident_id)
