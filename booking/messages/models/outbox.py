from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from booking.core.db import Base, UTCDateTime, str_enum
from booking.core.errors import Conflict


class MessageState(enum.StrEnum):
    QUEUED = "queued"  # waiting for its moment (now, or the end of quiet hours)
    SENDING = "sending"  # handed to a channel by the worker, answer not yet recorded
    SENT = "sent"  # the provider accepted it
    RETRYING = "retrying"  # a send failed; tried again at ``next_attempt_at``
    GAVE_UP = "gave_up"  # every attempt failed: staff were told and see it in the console

    @property
    def is_final(self) -> bool:
        return self in (MessageState.SENT, MessageState.GAVE_UP)


class MessageStateWrong(Conflict):
    code = "message_state_wrong"


class OutboxMessage(Base):
    """One message to one phone through one channel, and what became of it.

    ``params`` are the values of the kind's template, in the template's order (the SMS
    provider holds the registered templates; booking.messages.templates has their text). They
    never hold a blood-pressure value or a PIN; a one-time code's single parameter is the code,
    and it is blanked once the message is sent or given up.
    """

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    resident_id: Mapped[int] = mapped_column(
        ForeignKey("residents.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str] = mapped_column(String(20))
    # True for a message to the resident's emergency contact rather than the resident.
    to_contact: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str] = mapped_column(String(8))
    params: Mapped[list[str]] = mapped_column(JSON)
    # A code the resident just asked for goes at once, whatever the hour.
    ignores_quiet_hours: Mapped[bool] = mapped_column(default=False)
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="SET NULL")
    )
    state: Mapped[MessageState] = mapped_column(str_enum(MessageState), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sending_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(200), default="")
    provider_ref: Mapped[str] = mapped_column(String(80), default="")

    def _expect(self, *states: MessageState) -> None:
        if self.state not in states:
            raise MessageStateWrong(f"message {self.id} is {self.state.value}")

    def defer(self, until: datetime) -> None:
        """Quiet hours: wait, without counting an attempt."""
        self._expect(MessageState.QUEUED, MessageState.RETRYING)
        self.next_attempt_at = until

    def start_sending(self, now: datetime) -> None:
        self._expect(MessageState.QUEUED, MessageState.RETRYING)
        self.state = MessageState.SENDING
        self.attempts += 1
        self.sending_since = now

    def mark_sent(self, now: datetime, provider_ref: str) -> None:
        self._expect(MessageState.SENDING)
        self.state = MessageState.SENT
        self.sent_at = now
        self.provider_ref = provider_ref[:80]
        self.last_error = ""
        self._forget_secret()

    def mark_failed(
        self, now: datetime, error: str, *, max_attempts: int, first_backoff: timedelta
    ) -> None:
        """A failed attempt: try again after a backoff that doubles each time, or give up
        after ``max_attempts``."""
        self._expect(MessageState.SENDING)
        self.last_error = error[:200]
        self.sending_since = None
        if self.attempts >= max_attempts:
            self.state = MessageState.GAVE_UP
            self.gave_up_at = now
            self._forget_secret()
            return
        self.state = MessageState.RETRYING
        self.next_attempt_at = now + first_backoff * 2 ** (self.attempts - 1)

    def expire(self, now: datetime, error: str) -> None:
        """Too old to send (booking.messages.sending.MAX_AGE): given up without an attempt."""
        self._expect(MessageState.QUEUED, MessageState.RETRYING)
        self.state = MessageState.GAVE_UP
        self.gave_up_at = now
        self.last_error = error[:200]
        self._forget_secret()

    def _forget_secret(self) -> None:
        # A one-time code is kept in clear only until it has left: the database otherwise
        # holds codes only as hashes (booking.people.one_time_codes).
        if self.kind == "sign_in_code":
            self.params = ["" for _ in self.params]
