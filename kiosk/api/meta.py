# mypy: disable-error-code="untyped-decorator"
# (flask-smorest ships no type hints; its decorators keep the view's signature.)
"""About the service itself: is it up, and which centre is it."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, current_app
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from booking import sites
from booking.models import Site
from kiosk.api.blueprint import api_blueprint
from kiosk.api.schemas import HealthSchema, SiteSchema
from kiosk.errors import error_response
from kiosk.extensions import clock, database
from kiosk.request_reads import read_connection

log = logging.getLogger(__name__)

blp = api_blueprint("api_meta", "", "Health and the configured centre")


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def health() -> dict[str, Any] | Response:
    """Whether the service and its database answer (503 when the database does not)."""
    try:
        # On the request's read connection: a statement, no transaction to begin and end (on
        # a server one round trip instead of three).
        read_connection().execute(text("SELECT 1"))
    except DBAPIError as error:
        # What a load balancer or monitor asks: a clear 503, not a 500 with a traceback.
        log.warning("health: the database does not answer: %s", type(error.orig).__name__)
        return error_response(
            503,
            "database_unavailable",
            "The database does not answer.",
            headers={"Retry-After": "5"},
        )
    return {"status": "ok", "time": clock().now()}


@blp.route("/site")
@blp.response(200, SiteSchema)
@blp.alt_response(404, response="NOT_FOUND")
def site() -> Site:
    """The centre this server is configured for (setting ``SITE``): names, timezone, hours."""
    with database().read() as session:
        found = sites.get_site_by_slug(session, current_app.config["SITE"])
        # Detached, so the read session's closing rollback does not expire what we answer.
        session.expunge(found)
    return found
