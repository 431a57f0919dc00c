"""Per-app access to the shared services: the database, the clock and the broker's accounts."""

from __future__ import annotations

from flask import Flask, current_app

from booking.core.clock import Clock, SystemClock
from booking.core.db import Database
from devices.fleet import broker_accounts as accounts


def init_app(app: Flask) -> None:
    app.extensions["linli.db"] = Database(app.config["DATABASE_URL"])
    app.extensions.setdefault("linli.clock", app.config.get("CLOCK") or SystemClock())


def database() -> Database:
    db: Database = current_app.extensions["linli.db"]
    return db


def clock() -> Clock:
    c: Clock = current_app.extensions["linli.clock"]
    return c


def broker_accounts() -> accounts.BrokerAccounts:
    """Where device accounts are kept (``LINLI_BROKER_ACCOUNTS``); a setting that cannot work
    raises :class:`~devices.fleet.broker_accounts.BrokerAccountsError` with the reason."""
    return accounts.accounts_for(
        str(current_app.config.get("BROKER_ACCOUNTS") or accounts.FILES),
        current_app.config.get("MQTT_URL"),
    )
