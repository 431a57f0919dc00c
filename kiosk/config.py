"""Configuration: defaults, then ``LINLI_*`` environment variables, then a test mapping."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from booking.core.errors import InvalidInput
from booking.core.retention import RetentionPeriods

DEFAULTS: dict[str, Any] = {
    "TIMEZONE": "Asia/Shanghai",
    "SITE": "xinhua",
    # The worker bridges every centre's devices; LINLI_WORKER_SITES=<slug>,<slug> limits a
    # worker to those, to split a city's centres between groups of workers (docs/scaling.md).
    "WORKER_SITES": "",
    "MQTT_URL": None,
    # How device accounts reach the broker (devices/fleet/broker_accounts.py): "dynsec", through
    # Mosquitto's dynamic security plugin at once; "files", generated files and a reload.
    "BROKER_ACCOUNTS": "files",
    # Where devices connect, for their provisioning sheet: mqtt://host:port or mqtts://…
    # Unset: the host of LINLI_MQTT_URL on the device port (1883, or 8883 for mqtts).
    "DEVICE_BROKER_URL": None,
    "KIOSK_IDLE_SECONDS": 60,
    # A resident's own phone (/m) is theirs alone: signed in for this many days since last use.
    "PHONE_IDLE_DAYS": 30,
    "STAFF_IDLE_MINUTES": 30,
    # Retention (the worker's hourly job, booking/core/retention.py): whole days, 1 to 3650.
    "DEVICE_MESSAGES_RETENTION_DAYS": 14,
    "DEVICE_COMMANDS_RETENTION_DAYS": 90,
    "SESSIONS_RETENTION_DAYS": 30,
    "DEACTIVATED_RESIDENTS_RETENTION_DAYS": 365,
    "MESSAGES_RETENTION_DAYS": 180,
    "DEAD_LETTERS_RETENTION_DAYS": 90,
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ("zh_CN", "en"),
    # Behind a TLS proxy (kiosk/tls.py): LINLI_TLS=true, LINLI_PROXY_HOPS=1.
    "TLS": False,
    "DEMO": False,
    "PROXY_HOPS": 0,
    "SESSION_COOKIE_NAME": "linli",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "API_TITLE": "Linli API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
}


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'linli.sqlite3'}"


def load_or_create_secret_key(instance_path: str) -> str:
    """The secret key kept in the instance folder, created on first use; never printed."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created private before the secret goes in, so it is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


# Each retention period's setting, by the field of RetentionPeriods it sets.
RETENTION_SETTINGS = {
    "device_messages": "DEVICE_MESSAGES_RETENTION_DAYS",
    "device_commands": "DEVICE_COMMANDS_RETENTION_DAYS",
    "sessions": "SESSIONS_RETENTION_DAYS",
    "deactivated_residents": "DEACTIVATED_RESIDENTS_RETENTION_DAYS",
    "messages": "MESSAGES_RETENTION_DAYS",
    "dead_letters": "DEAD_LETTERS_RETENTION_DAYS",
}


class ConfigError(Exception):
    """A setting an operator gave cannot be used; the message names it and says why."""


def retention_periods(config: Mapping[str, Any]) -> RetentionPeriods:
    """The retention periods the configuration sets, or :class:`ConfigError`."""
    try:
        return RetentionPeriods.from_days(
            {field: config[key] for field, key in RETENTION_SETTINGS.items() if key in config}
        )
    except InvalidInput as error:
        key = RETENTION_SETTINGS[str(error.details["field"])]
        raise ConfigError(
            f"LINLI_{key} must be a whole number of days from {error.details['min']} to "
            f"{error.details['max']}, not {error.details['value']!r}"
        ) from None


def worker_sites(config: Mapping[str, Any]) -> list[str] | None:
    """The centres a worker is limited to by ``LINLI_WORKER_SITES``, or None for every centre."""
    from devices.protocol.messages import ID_PATTERN

    slugs = [slug.strip() for slug in str(config.get("WORKER_SITES") or "").split(",")]
    slugs = [slug for slug in slugs if slug]
    for slug in slugs:
        # What an MQTT topic of the protocol can carry as its site.
        if not ID_PATTERN.match(slug):
            raise ConfigError(
                f"LINLI_WORKER_SITES must be centre slugs separated by commas, not {slug!r}"
            )
    return slugs or None


def device_broker_url(config: Mapping[str, Any]) -> str:
    """Where devices connect (no account in it): ``LINLI_DEVICE_BROKER_URL``, else the server's
    broker host on the device port, else this machine's."""
    from urllib.parse import urlsplit

    configured = config.get("DEVICE_BROKER_URL")
    if configured:
        parts = urlsplit(str(configured))
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}"
    server = urlsplit(str(config.get("MQTT_URL") or "mqtt://127.0.0.1"))
    scheme = server.scheme if server.scheme in ("mqtt", "mqtts") else "mqtt"
    return f"{scheme}://{server.hostname or '127.0.0.1'}:{8883 if scheme == 'mqtts' else 1883}"
