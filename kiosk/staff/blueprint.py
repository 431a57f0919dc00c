"""The staff console's URL list. Every route needs a signed-in account unless listed in
``auth.PUBLIC_ENDPOINTS``; the check runs before any view, so a new view cannot forget it."""

from __future__ import annotations

from typing import Any

import werkzeug.exceptions
from flask import Blueprint, g, request

from booking.errors import NotFound
from kiosk.staff import accounts, auth, nav, overview, residents
from kiosk.staff.forms import LanguageForm, SignOutForm
from kiosk.staff.insights import insights_csv, insights_page

bp = Blueprint(
    "staff",
    __name__,
    url_prefix="/staff",
    static_folder="../static/staff",
    static_url_path="/static",
)
bp.before_request(auth.require_sign_in)
bp.after_request(auth.no_store)

bp.add_url_rule("/sign-in", "sign_in", auth.sign_in, methods=["GET", "POST"])
bp.add_url_rule("/sign-out", "sign_out", auth.sign_out, methods=["POST"])
bp.add_url_rule("/password", "change_password", auth.change_password, methods=["GET", "POST"])
bp.add_url_rule("/language", "choose_language", auth.choose_language, methods=["POST"])
bp.add_url_rule("/", "overview", overview.overview)
bp.add_url_rule("/residents", "residents", residents.residents)
bp.add_url_rule("/residents/<int:resident_id>", "resident", residents.resident)
bp.add_url_rule("/accounts", "accounts", accounts.accounts)
bp.add_url_rule("/insights", "insights", insights_page)
bp.add_url_rule("/insights/<chart>.csv", "insights_csv", insights_csv)


@bp.errorhandler(NotFound)
def _not_found(error: NotFound) -> werkzeug.exceptions.NotFound:
    return werkzeug.exceptions.NotFound()


@bp.context_processor
def _console_context() -> dict[str, Any]:
    return {
        "staff": g.get("staff"),
        "nav_entries": nav.entries_for(g.get("staff")),
        "nav_section": nav.section_of(request.endpoint),
        "sign_out_form": SignOutForm(),
        "language_form": LanguageForm(next=request.full_path.rstrip("?")),
    }
