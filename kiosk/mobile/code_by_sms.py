"""The one place where the phone page will ask for a sign-in code by SMS.

Today a resident signs in on their phone with a code staff printed on a slip (enrolment or a
forgotten PIN). Sending a code by SMS belongs to the message outbox (``booking/messages/``,
issue 17's SMS part), built apart from this page. When it lands, the application sets
``SMS_SIGN_IN_SENDER`` to its issue-and-send function and this module calls it; until then no
sender is configured, so the "send me a code" button is not drawn and nothing pretends to send.
"""

from __future__ import annotations

from flask import current_app

CONFIG_KEY = "SMS_SIGN_IN_SENDER"


def sender_configured() -> bool:
    """Whether a code can be sent by SMS here: only then does the page offer to send one."""
    return current_app.config.get(CONFIG_KEY) is not None
