"""A sign-in code sent by SMS to the phone a resident typed on their phone page.

The code is issued and queued by :func:`booking.messages.sign_in_codes.send_sign_in_code`
(the worker sends it at once, at any hour). The button is drawn only where an SMS provider
reaches phones (``kiosk.messaging.sms_config.reaches_phones``).

The answer is the same whether or not the phone is a member here, so the page tells a
stranger nothing about who is; only a second request within the minute is answered apart.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SENT = _l(
    "If this number belongs to a member of this centre, a code is on its way by text message. "
    "Type it below within 24 hours."
)
TOO_SOON = _l("A code was sent a moment ago. Wait a minute before asking again.")
