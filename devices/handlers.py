"""Which domain code reacts to which device events: the one list the worker's bridge uses.

Each capability keeps its reactions in its own module with a ``register(handlers)``
function and is added to :func:`default_handlers` here.
"""

from __future__ import annotations

from devices import health_events, lending_events, locker_reconciliation
from devices.ingest import Handlers


def default_handlers() -> Handlers:
    handlers = Handlers()
    health_events.register(handlers)
    lending_events.register(handlers)
    # After lending's: a full state or event is judged once lending has applied it.
    locker_reconciliation.register(handlers)
    return handlers
