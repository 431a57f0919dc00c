"""The web process's way to command devices: one command publisher per process, started lazily.

The app factory starts no MQTT client (gunicorn forks after importing the app); the first
request that commands a device starts this process's publisher. Replies come back through
the worker's bridge into the database, where :func:`devices.commands.retry` and friends read
them.
"""

from __future__ import annotations

import os
import threading

from flask import current_app

from booking.errors import DomainError
from devices.bridge import SERVER_USERNAME
from devices.command_publisher import BrokerUrl, CommandPublisher

EXTENSION_KEY = "linli.command_publisher"
_lock = threading.Lock()


class DevicesUnavailable(DomainError):
    """This deployment has no broker configured (``LINLI_MQTT_URL``)."""

    code = "devices_unavailable"
    status = 503


def command_publisher() -> CommandPublisher:
    """This process's publisher for the app's broker; a forked child gets its own."""
    url = current_app.config.get("MQTT_URL")
    if not url:
        raise DevicesUnavailable("no MQTT broker is configured (LINLI_MQTT_URL)")
    with _lock:
        entry: tuple[int, CommandPublisher] | None = current_app.extensions.get(EXTENSION_KEY)
        if entry is not None and entry[0] == os.getpid():
            return entry[1]
        # Like the bridge, the web speaks as the server account unless the URL names one.
        username = None if BrokerUrl(url).username else SERVER_USERNAME
        publisher = CommandPublisher(url, username=username)
        # Not being connected yet is fine: publishes queue until the connection is up.
        publisher.start(connect_timeout=2.0)
        current_app.extensions[EXTENSION_KEY] = (os.getpid(), publisher)
        return publisher


def stop_publisher() -> None:
    """For tests and orderly shutdown: disconnect this process's publisher, if it has one."""
    with _lock:
        entry = current_app.extensions.pop(EXTENSION_KEY, None)
    if entry is not None and entry[0] == os.getpid():
        entry[1].stop()
