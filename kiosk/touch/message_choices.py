"""The signed-in resident's choice, per kind of message, of getting it by SMS too. The kiosk
notice stays whatever the choice; the one-time code and a message to the emergency contact
are not chosen here (the first is asked for, the second needs consent recorded by staff)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from booking.core.models.sites import Site
from booking.messages import kinds, preferences
from kiosk.extensions import clock, database
from kiosk.messaging import words as message_words
from kiosk.touch import session as kiosk_session
from kiosk.touch.forms import MessageChoiceForm
from kiosk.touch.session import KioskResident
from kiosk.touch.signed_in import resident_required

CHOICES = {"on": True, "off": False}
UNKNOWN_CHOICE = _l("That choice is not offered. Please use the buttons on the page.")
TURNED_ON = _l("You will get this by SMS: %(kind)s")
TURNED_OFF = _l("You will no longer get this by SMS: %(kind)s")


@resident_required
def choices(resident: KioskResident) -> ResponseReturnValue:
    with database().read() as session:
        chosen = preferences.choices_of(session, resident_id=resident.id)
        site = session.get_one(Site, kiosk_session.current_site().id)
        quiet = site.quiet_from.strftime("%H:%M"), site.quiet_until.strftime("%H:%M")
    return render_template(
        "touch/message_choices.html",
        choices=[(kind, message_words.kind_label(kind), sms) for kind, sms in chosen.items()],
        quiet_from=quiet[0],
        quiet_until=quiet[1],
    )


@resident_required
def choose(resident: KioskResident) -> ResponseReturnValue:
    form = MessageChoiceForm.read()
    kind, sms = form.text("kind"), CHOICES.get(form.text("sms"))
    if kind not in kinds.CHOOSABLE or sms is None:
        return render_template("touch/error.html", message=str(UNKNOWN_CHOICE)), 400
    with database().write() as session:
        preferences.choose(session, resident_id=resident.id, kind=kind, sms=sms, now=clock().now())
    said = TURNED_ON if sms else TURNED_OFF
    flash(str(said) % {"kind": message_words.kind_label(kind)}, "success")
    return redirect(url_for("touch.message_choices") + f"#choice-{kind}", code=303)
