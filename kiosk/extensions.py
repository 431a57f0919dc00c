"""Per-app access to the shared services: the database and the clock."""

from __future__ import annotations

from flask import Flask, current_app

from booking.core.clock import Clock, SystemClock
from booking.core.db import Database


def init_app(app: Flask) -> None:
    app.extensions["linli.db"] = Database(app.config["DATABASE_URL"])
    app.extensions.setdefault("linli.clock", app.config.get("CLOCK") or SystemClock())


def database() -> Database:
    db: Database = current_app.extensions["linli.db"]
    return db


def clock() -> Clock:
    c: Clock = current_app.extensions["linli.clock"]
    return c
