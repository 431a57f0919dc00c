"""The signed-in resident's choice, per kind of message, of getting it by SMS too. The kiosk
notice stays whatever the choice; the one-time code and a message to the emergency contact
are not chosen here (the first is asked for, the second needs consent recorded by staff)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

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


@dataclass(frozen=True)
class Choices:
    """What the choices page shows: each choosable kind, its name and whether it goes by SMS,
    and the quiet hours in which no SMS is sent (the kiosk's page and the phone's)."""

    rows: list[tuple[str, str, bool]]
    quiet_from: str
    quiet_until: str


def choices_of(session: Session, *, resident_id: int, site_id: int) -> Choices:
    chosen = preferences.choices_of(session, resident_id=resident_id)
    site = session.get_one(Site, site_id)
    return Choices(
        rows=[(kind, message_words.kind_label(kind), sms) for kind, sms in chosen.items()],
        quiet_from=site.quiet_from.strftime("%H:%M"),
        quiet_until=site.quiet_until.strftime("%H:%M"),
    )


def apply_choice(form: MessageChoiceForm, *, resident_id: int) -> tuple[str, str | None]:
    """Record the form's choice: the words saying what now happens, and the kind chosen;
    (UNKNOWN_CHOICE, None), with nothing recorded, for a kind or answer not offered."""
    kind, sms = form.text("kind"), CHOICES.get(form.text("sms"))
    if kind not in kinds.CHOOSABLE or sms is None:
        return str(UNKNOWN_CHOICE), None
    with database().write() as session:
        preferences.choose(session, resident_id=resident_id, kind=kind, sms=sms, now=clock().now())
    said = TURNED_ON if sms else TURNED_OFF
    return str(said) % {"kind": message_words.kind_label(kind)}, kind


@resident_required
def choices(resident: KioskResident) -> ResponseReturnValue:
    with database().read() as session:
        shown = choices_of(
            session, resident_id=resident.id, site_id=kiosk_session.current_site().id
        )
    return render_template(
        "touch/message_choices.html",
        choices=shown.rows,
        quiet_from=shown.quiet_from,
        quiet_until=shown.quiet_until,
    )


@resident_required
def choose(resident: KioskResident) -> ResponseReturnValue:
    words, kind = apply_choice(MessageChoiceForm.read(), resident_id=resident.id)
    if kind is None:
        return render_template("touch/error.html", message=words), 400
    flash(words, "success")
    return redirect(url_for("touch.message_choices") + f"#choice-{kind}", code=303)
