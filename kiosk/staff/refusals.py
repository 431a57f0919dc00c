"""The console's refusals (403, 404) in its own frame and in the staff member's language.

Werkzeug's pages are bare English ("Forbidden – You don't have the permission…"): the console
walk met them on every admin page a worker opened and on every id that is not the centre's,
where the district overview's own refusal was already a Chinese page of the console.
"""

from __future__ import annotations

import werkzeug.exceptions
from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l

from booking.core.errors import NotFound

REFUSED = {
    403: (_l("Not for your account"),
          _l("This page is for the centre's administrators. Ask one of them if you need it.")),
    404: (_l("Not found"),
          _l("There is no such page, or what it shows belongs to another centre.")),
}  # fmt: skip


def _refused(status: int) -> ResponseReturnValue:
    title, message = REFUSED[status]
    return render_template(
        "staff/error.html", title=title, message=message, status=status
    ), status  # fmt: skip


def register(bp: Blueprint) -> None:
    # A domain NotFound (another centre's resident, an id that is not there) reads as 404 too.
    bp.register_error_handler(NotFound, lambda error: _refused(404))
    bp.register_error_handler(werkzeug.exceptions.NotFound, lambda error: _refused(404))
    bp.register_error_handler(werkzeug.exceptions.Forbidden, lambda error: _refused(403))
