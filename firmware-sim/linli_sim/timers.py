"""One timer thread per device: the firmware's main loop for delayed work (relocking,
door-left-open alarms, simulated people), so device logic never sleeps in MQTT callbacks."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Timer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    def __init__(self, name: str) -> None:
        self._queue: list[tuple[float, int, Timer, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=f"timers-{name}", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, action: Callable[[], None]) -> Timer:
        timer = Timer()
        with self._wake:
            heapq.heappush(
                self._queue, (time.monotonic() + max(delay, 0.0), next(self._order), timer, action)
            )
            self._wake.notify()
        return timer

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._queue.clear()
            self._wake.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopping and (
                    not self._queue or self._queue[0][0] > time.monotonic()
                ):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._wake.wait(timeout)
                if self._stopping:
                    return
                _, _, timer, action = heapq.heappop(self._queue)
            if timer.cancelled:
                continue
            try:
                action()
            except Exception:  # a bug in one action must not stop the device's clock
                log.exception("timer action failed")
