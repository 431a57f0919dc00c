# mypy: disable-error-code="untyped-decorator"
# (flask-smorest ships no type hints; its decorators keep the view's signature.)
"""About the service itself: is it up, and which centre is it."""

from __future__ import annotations

from typing import Any

from flask import Response

from booking.core import sites
from booking.core.errors import NotFound
from booking.core.models.sites import Site
from kiosk import screen_site, service_health
from kiosk.api.blueprint import api_blueprint
from kiosk.api.schemas import HealthSchema, SiteSchema
from kiosk.errors import error_response
from kiosk.extensions import clock, database

blp = api_blueprint("api_meta", "", "Health and the configured centre")

DOWN_CODES = {
    service_health.DATABASE: "database_unavailable",
    service_health.DEVICE_LINK: "device_link_down",
}
DOWN_MESSAGES = {
    service_health.DATABASE: "The database does not answer.",
    service_health.DEVICE_LINK: "The device link is down: the worker that records device "
    "replies and events is not running.",
}


@blp.route("/health")
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def health() -> dict[str, Any] | Response:
    """Whether the database and the device link answer; 503 naming the part that is down.

    The error's code is ``database_unavailable`` or ``device_link_down``; ``details.down``
    lists every part that is down.
    """
    found = service_health.check_this_app()
    if found.ok:
        return {"status": "ok", "time": clock().now(), **found.as_dict()}
    # What a load balancer or monitor asks: a clear 503, not a 500 with a traceback.
    first = found.down[0]
    return error_response(
        503,
        DOWN_CODES[first],
        DOWN_MESSAGES[first],
        details={"down": found.down, **found.as_dict()},
        headers={"Retry-After": str(service_health.RETRY_AFTER_SECONDS)},
    )


@blp.route("/site")
@blp.response(200, SiteSchema)
@blp.alt_response(404, response="NOT_FOUND")
def site() -> Site:
    """The centre this browser's screen serves (kiosk.screen_site; the deployment's own,
    setting ``SITE``, unless staff set the screen up for another): names, timezone, hours."""
    with database().read() as session:
        try:
            found = sites.get_site_by_slug(session, screen_site.slug())
        except NotFound:
            if screen_site.chosen_slug() is None:
                raise
            # The centre the screen was set up for is gone: the deployment's own, as the kiosk.
            screen_site.forget_gone_site()
            found = sites.get_site_by_slug(session, screen_site.slug())
        # Detached, so the read session's closing rollback does not expire what we answer.
        session.expunge(found)
    return found
