"""Configuration: defaults, then ``LINLI_*`` environment variables, then a test mapping."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "TIMEZONE": "Asia/Shanghai",
    "SITE": "xinhua",
    "MQTT_URL": None,
    "KIOSK_IDLE_SECONDS": 60,
    "STAFF_IDLE_MINUTES": 30,
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ("zh_CN", "en"),
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
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(key)
    return key
