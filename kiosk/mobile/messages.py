"""The resident's messages on their phone: what was sent to them, newest first, with what
became of each in plain words, and their choice per kind of message of getting it by SMS.

The choices are the kiosk's own (kiosk.touch.message_choices over
booking.messages.preferences): a choice made here shows at the kiosk, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from booking.messages import kinds, outbox, templates
from booking.messages.models.outbox import OutboxMessage
from kiosk.extensions import database
from kiosk.messaging import words as message_words
from kiosk.mobile import session as phone_session
from kiosk.mobile.session import PhoneResident
from kiosk.mobile.signed_in import resident_required
from kiosk.touch import message_choices
from kiosk.touch.forms import MessageChoiceForm
from kiosk.touch.spaces import words as booking_words

# The newest this many: an older message has long been read or acted on.
MESSAGES_SHOWN = 30


@dataclass(frozen=True)
class MessageLine:
    id: int
    kind: str
    written: str
    # The words as the phone received them; empty for a sign-in code, which is never shown
    # again (once sent its code is blanked, and it is for signing in, not for reading).
    text: str
    state: str
    state_value: str
    to_contact: bool


def _line(message: OutboxMessage, timezone: str) -> MessageLine:
    text = (
        ""
        if message.kind == kinds.SIGN_IN_CODE
        else templates.render(message.kind, message.language, list(message.params))
    )
    return MessageLine(
        id=message.id,
        kind=message_words.kind_label(message.kind),
        written=booking_words.moment_text(message.created_at, timezone),
        text=text,
        state=str(message_words.RESIDENT_STATE_LABELS[message.state]),
        state_value=message.state.value,
        to_contact=message.to_contact,
    )


def _page(
    resident: PhoneResident, error: str | None = None, status: int = 200
) -> ResponseReturnValue:
    site = phone_session.current_site()
    with database().read() as session:
        sent = outbox.messages_of(session, resident_id=resident.id, site_id=site.id)
        lines = [_line(message, site.timezone) for message in sent[:MESSAGES_SHOWN]]
        shown = message_choices.choices_of(session, resident_id=resident.id, site_id=site.id)
    return render_template(
        "mobile/messages.html", messages=lines, choices=shown.rows,
        quiet_from=shown.quiet_from, quiet_until=shown.quiet_until, error=error,
    ), status  # fmt: skip


@resident_required
def my_messages(resident: PhoneResident) -> ResponseReturnValue:
    return _page(resident)


@resident_required
def choose(resident: PhoneResident) -> ResponseReturnValue:
    words, kind = message_choices.apply_choice(MessageChoiceForm.read(), resident_id=resident.id)
    if kind is None:
        return _page(resident, words, 400)
    flash(words, "success")
    return redirect(url_for("mobile.my_messages", _anchor=f"choice-{kind}"), code=303)
