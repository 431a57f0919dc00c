"""The demo's channel: each message is written to the worker's log instead of a phone.

Its log line names the message, not the phone or the text, except at DEBUG: a log file is
read by more people than a resident's messages should be.
"""

from __future__ import annotations

import logging

from booking.messages.sending import Outgoing
from booking.messages.templates import render

log = logging.getLogger(__name__)


class LogChannel:
    def send(self, message: Outgoing) -> str:
        log.info("message %d (%s) sent to the log", message.message_id, message.kind)
        log.debug("message %d: %s", message.message_id,
                  render(message.kind, message.language, list(message.params)))  # fmt: skip
        return f"log:{message.message_id}"
