# mypy: disable-error-code="untyped-decorator"
# (flask-smorest ships no type hints; its decorators keep the view's signature.)
"""Residents of the signed-in staff member's centre."""

from __future__ import annotations

from typing import Any

from booking.people import residents as resident_service
from booking.people.models.residents import Resident
from kiosk.api.blueprint import api_access, api_blueprint, caller
from kiosk.api.schemas import ResidentPageSchema, ResidentQuerySchema, ResidentSchema
from kiosk.extensions import database

blp = api_blueprint("api_residents", "/residents", "Residents of the staff member's centre")


@blp.route("")
@api_access(blp, "residents:read")
@blp.arguments(ResidentQuerySchema(), location="query")
@blp.response(200, ResidentPageSchema)
def list_residents(args: dict[str, Any]) -> dict[str, Any]:
    """Search by name, phone or card id; 50 a page, by name."""
    with database().read() as session:
        result = resident_service.resident_page(
            session, site_id=caller().site_id, query=args["q"], page=args["page"]
        )
        # Detached, so the read session's closing rollback does not expire what we answer.
        session.expunge_all()
    return {
        "items": result.residents,
        "page": result.page,
        "page_size": result.page_size,
        "pages": result.pages,
        "total": result.total,
    }


@blp.route("/<id:resident_id>")
@api_access(blp, "residents:read")
@blp.response(200, ResidentSchema)
@blp.alt_response(404, response="NOT_FOUND")
def get_resident(resident_id: int) -> Resident:
    """One resident; a resident of another centre is not found."""
    with database().read() as session:
        found = resident_service.get_member(
            session, site_id=caller().site_id, resident_id=resident_id
        )
        # Detached, so the read session's closing rollback does not expire what we answer.
        session.expunge(found)
    return found
