"""The device side's tables, one per module. Importing this package imports them all, so the
metadata is complete for Alembic and ``create_all`` (``import devices.models``); code imports
a model from its own module (``devices.models.commands``)."""

from devices.models import (  # noqa: F401
    commands,
    compartments,
    dead_letters,
    device,
    faults,
    links,
    messages,
    outbox,
    reader_scans,
)
