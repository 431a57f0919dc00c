# mypy: disable-error-code="untyped-decorator"
# (flask-smorest ships no type hints; its decorators keep the view's signature.)
"""The signed-in staff account, its CSRF token and signing out."""

from __future__ import annotations

from typing import Any

from flask import Response, g, make_response
from flask_wtf.csrf import generate_csrf

from booking.core.models.sites import Site
from kiosk.api.blueprint import api_blueprint, staff_required
from kiosk.api.schemas import CsrfTokenSchema, StaffMeSchema
from kiosk.extensions import database
from kiosk.staff import session as staff_session

blp = api_blueprint("api_staff", "/staff", "The signed-in staff account")


@blp.route("/me")
@staff_required(blp)
@blp.response(200, StaffMeSchema)
def me() -> dict[str, Any]:
    """Who is signed in, and at which centre."""
    account = g.staff
    with database().read() as session:
        site = session.get(Site, account.working_site_id)
        # Detached, so the read session's closing rollback does not expire what we answer.
        session.expunge_all()
    return {
        "id": account.id,
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role.value,
        "site": site,
    }


@blp.route("/csrf-token")
@staff_required(blp)
@blp.response(200, CsrfTokenSchema)
def csrf_token() -> dict[str, str]:
    """The token to send as ``X-CSRFToken`` with every POST, PUT, PATCH and DELETE.

    A page of another site cannot read this answer (same-origin policy), so it cannot
    learn the token, while its forged requests would still carry the session cookie.
    """
    return {"csrf_token": generate_csrf()}


@blp.route("/session", methods=["DELETE"])
@staff_required(blp)
@blp.response(204)
@blp.alt_response(400, response="BAD_REQUEST", description="CSRF token missing or wrong")
def sign_out() -> Response:
    """End this session on the server (sign out); the cookie stops working everywhere."""
    response = make_response("", 204)
    staff_session.end(response)
    return response
