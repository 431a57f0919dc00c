"""Which domain code reacts to which device events: the one list the worker's bridge uses.

Each capability keeps its reactions in its own module with a ``register(handlers)``
function and is added to :func:`default_handlers` here.
"""

from __future__ import annotations

from devices.bp_terminal import events as health_events
from devices.ingest.reactions import Handlers
from devices.kiosk_reader import events as reader_events
from devices.locker import events as lending_events
from devices.locker import reconciliation as locker_reconciliation


def default_handlers() -> Handlers:
    handlers = Handlers()
    health_events.register(handlers)
    lending_events.register(handlers)
    reader_events.register(handlers)
    # After lending's: a full state or event is judged once lending has applied it.
    locker_reconciliation.register(handlers)
    return handlers
