"""Whether the service can serve residents now: its database and its device link.

``/healthz`` (for a load balancer, systemd or the demo) and ``/api/v1/health`` (for a monitor)
ask :func:`check`; both answer 503 naming the part that is down, so whoever is paged knows
where to look. A deployment without a broker (``LINLI_MQTT_URL`` unset) has no device link to
check: the part reads ``not_configured`` and does not fail the check.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, Response, current_app, jsonify
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from kiosk.extensions import clock
from kiosk.leases import WORKER_LEASE
from kiosk.models import WorkerLease
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


def device_link_live(connection: Connection, *, now: datetime) -> bool:
    """Whether the process that records device replies and events is running now.

    That process is ``linli worker``: it holds the worker lease while it runs (renewed every
    20 s, see ``kiosk.worker``) and stops, giving the lease up, when its MQTT bridge fails.
    A lease past its expiry is a worker that died without saying so. (One question with one
    answer, so a finer check of the bridge's broker connection can take its place.)
    """
    expires_at = connection.scalar(
        select(WorkerLease.expires_at).where(WorkerLease.name == WORKER_LEASE)
    )
    return expires_at is not None and expires_at > now


def check(connection: Connection, *, now: datetime, devices_configured: bool) -> ServiceHealth:
    """Ask the database, then (through it) whether the device link is live.

    The database's question reads a table: SQLite answers ``SELECT 1`` without opening its
    file, so only a read of the file shows it can be used.
    """
    try:
        live = device_link_live(connection, now=now)
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
    return check(connection, now=clock().now(), devices_configured=devices_configured)


def healthz() -> tuple[Response, int] | Response:
    """200 with every part's state, or 503 naming the parts that are down."""
    health = check_this_app()
    body = {"status": "ok" if health.ok else "unavailable", **health.as_dict()}
    if health.ok:
        return jsonify(body)
    response = jsonify({**body, "down": health.down})
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503


def init_app(app: Flask) -> None:
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
