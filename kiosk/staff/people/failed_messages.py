"""The console's list of messages the worker gave up sending: none is lost without staff
seeing it (each also raised an alert that links to the resident)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from booking.messages import outbox
from booking.people.models.residents import Resident
from kiosk.extensions import database
from kiosk.messaging import words as message_words
from kiosk.staff.session import console_site_id


def failed_messages() -> ResponseReturnValue:
    with database().read() as session:
        messages = outbox.given_up(session, site_id=console_site_id())
        ids = {m.resident_id for m in messages}
        names = dict(
            session.execute(select(Resident.id, Resident.name).where(Resident.id.in_(ids))).all()
        )
        return render_template(
            "staff/messages_failed.html",
            messages=messages,
            names=names,
            message_kind_label=message_words.kind_label,
            message_state_labels=message_words.STATE_LABELS,
        )
