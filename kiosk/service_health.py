"""Whether the service can serve residents now: its database and its device link.

``/healthz`` (for a load balancer, systemd or the demo) and ``/api/v1/health`` (for a monitor)
ask :func:`check`; both answer 503 naming the part that is down, so whoever is paged knows
where to look. A deployment without a broker (``LINLI_MQTT_URL`` unset) has no device link to
check: the part reads ``not_configured`` and does not fail the check.

``/healthz`` also lists every centre's device link (``centres``, and ``centres_down``), since one
worker bridges every centre of a district. Only the deployment's own centre (``LINLI_SITE``)
decides the status code: one centre's bridge down must not take the district's kiosks and
consoles out of a load balancer; a monitor alerts on ``centres_down``.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, Response, current_app, jsonify
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from devices.fleet.link_status import every_link_status, link_status
from kiosk.extensions import clock, database
from kiosk.request_reads import read_connection

log = logging.getLogger(__name__)

DATABASE = "database"
DEVICE_LINK = "device_link"
# How long a monitor should wait before asking again.
RETRY_AFTER_SECONDS = 5


class PartState(enum.StrEnum):
    OK = "ok"
    DOWN = "down"
    # Not checked: the database did not answer, so nothing it records can be read.
    UNKNOWN = "unknown"
    NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class ServiceHealth:
    database: PartState
    device_link: PartState

    @property
    def down(self) -> list[str]:
        """The parts that are down, in the order a person should look at them."""
        parts = ((DATABASE, self.database), (DEVICE_LINK, self.device_link))
        return [name for name, state in parts if state is PartState.DOWN]

    @property
    def ok(self) -> bool:
        return not self.down

    def as_dict(self) -> dict[str, str]:
        return {DATABASE: self.database.value, DEVICE_LINK: self.device_link.value}


def device_link_live(connection: Connection, *, site: str, now: datetime) -> bool:
    """Whether the process that records device replies and events runs, connected, now.

    That is the worker's bridge: it beats its ``device_links`` row every few seconds while it
    runs and says when it loses the broker or stops (:mod:`devices.fleet.link_status`, the same
    answer the kiosk asks before it offers a locker). A stale beat is a worker that died
    without saying so.
    """
    with database().statement_session(connection) as session:
        return link_status(session, site=site, now=now).live


def check(
    connection: Connection, *, site: str, now: datetime, devices_configured: bool
) -> ServiceHealth:
    """Ask the database, then (through it) whether the device link is live.

    The database's question reads a table: SQLite answers ``SELECT 1`` without opening its
    file, so only a read of the file shows it can be used.
    """
    try:
        live = device_link_live(connection, site=site, now=now)
    except DBAPIError as error:
        log.warning("health: the database does not answer: %s", type(error.orig).__name__)
        return ServiceHealth(database=PartState.DOWN, device_link=PartState.UNKNOWN)
    if not devices_configured:
        return ServiceHealth(database=PartState.OK, device_link=PartState.NOT_CONFIGURED)
    return ServiceHealth(
        database=PartState.OK, device_link=PartState.OK if live else PartState.DOWN
    )


def check_this_app() -> ServiceHealth:
    """:func:`check` for the current app, on the request's read connection."""
    devices_configured = bool(current_app.config.get("MQTT_URL"))
    try:
        connection = read_connection()
    except DBAPIError as error:
        log.warning("health: no database connection: %s", type(error.orig).__name__)
        return ServiceHealth(database=PartState.DOWN, device_link=PartState.UNKNOWN)
    return check(
        connection,
        site=current_app.config["SITE"],
        now=clock().now(),
        devices_configured=devices_configured,
    )


def centre_links(connection: Connection, *, now: datetime) -> dict[str, PartState]:
    """Every centre's device link, by slug (one read)."""
    with database().statement_session(connection) as session:
        found = every_link_status(session, now=now)
    return {slug: PartState.OK if status.live else PartState.DOWN for slug, status in found.items()}


def healthz() -> tuple[Response, int] | Response:
    """200 with every part's state, or 503 naming the parts that are down; with a broker
    configured and the database up, every centre's device link as well."""
    health = check_this_app()
    body: dict[str, object] = {"status": "ok" if health.ok else "unavailable", **health.as_dict()}
    if health.database is PartState.OK and health.device_link is not PartState.NOT_CONFIGURED:
        try:
            centres = centre_links(read_connection(), now=clock().now())
        except DBAPIError as error:  # gone since the first read: the parts above say enough
            log.warning("health: the database stopped answering: %s", type(error.orig).__name__)
        else:
            body["centres"] = {slug: state.value for slug, state in centres.items()}
            body["centres_down"] = [
                slug for slug, state in centres.items() if state is PartState.DOWN
            ]
    if health.ok:
        return jsonify(body)
    response = jsonify({**body, "down": health.down})
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
