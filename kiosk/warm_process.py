"""A long-running process's start-up objects, left out of the garbage collector's full passes.

A worker tracks about 215,000 objects, nearly all made while it starts and warms up (modules,
SQLAlchemy's mappers and statement caches, compiled templates) and kept for its whole life. A
full collection visits every one of them with every thread of the process stopped: 80-110 ms
in the district benchmark's workers, 50-75 ms in its web workers, each about every 30 s, and a
command whose answer met one waited that long (docs/benchmarks.md, twelfth session).
``gc.freeze()`` moves every object that exists into a permanent generation that no collection
visits, so a full collection visits only what came later: Python's documentation names it for
this (https://docs.python.org/3/library/gc.html#gc.freeze).

Once a process, :data:`WARM_AFTER_S` after it starts to work: by then what it keeps is made.
Without a collection first: that would be one more full pass (70-160 ms measured), and the
garbage frozen with the rest is what one pass would have freed, kept once. For the same reason
not again and again: an object frozen that later becomes garbage in a cycle is never reclaimed.
Not for apps under test (``app.testing``): their processes make and drop hundreds of apps. (A
test that serves requests from an app set up as in production plans its process's freeze like
a server's: once, keeping at most what was alive then.)
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time

from flask import Flask

log = logging.getLogger(__name__)

WARM_AFTER_S = 30.0

_lock = threading.Lock()
_armed_in: int | None = None  # the process id that has its freeze planned


def freeze_when_warm(after_s: float = WARM_AFTER_S) -> bool:
    """Plan this process's freeze ``after_s`` seconds from now; False if it is planned already
    (a forked child plans its own)."""
    global _armed_in
    with _lock:
        if _armed_in == os.getpid():
            return False
        _armed_in = os.getpid()
    timer = threading.Timer(after_s, freeze)
    timer.name, timer.daemon = "linli-gc-freeze", True
    timer.start()
    return True


def freeze() -> int:
    """Freeze every object the collector tracks now; the number frozen."""
    started = time.perf_counter()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "%d long-lived objects left out of later garbage collections (%.0f ms)",
        frozen, (time.perf_counter() - started) * 1000,
    )  # fmt: skip
    return frozen


def init_app(app: Flask) -> None:
    """A web process plans its freeze at its first request (gunicorn makes the app in each
    worker process, and a process that answers nothing needs none)."""
    if app.testing:
        return

    @app.before_request
    def _plan_freeze() -> None:
        if _armed_in != os.getpid():
            freeze_when_warm()
