"""A channel for the outbox tests: it keeps what it is handed and, when told, refuses as a
provider does. The real adapter is tested against a fake provider in tests/kiosk."""

from __future__ import annotations

from sqlalchemy import select

from booking.core.db import Database
from booking.messages.models.outbox import OutboxMessage
from booking.messages.sending import Outgoing, SendFailed


class Phone:
    def __init__(self) -> None:
        self.received: list[Outgoing] = []
        self.refuse_with = ""

    def send(self, message: Outgoing) -> str:
        if self.refuse_with:
            raise SendFailed(self.refuse_with)
        self.received.append(message)
        return f"ref-{message.message_id}"


def outbox_rows(db: Database, kind: str | None = None) -> list[OutboxMessage]:
    with db.read() as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            stmt = stmt.where(OutboxMessage.kind == kind)
        rows = list(session.scalars(stmt))
        session.expunge_all()
        return rows
