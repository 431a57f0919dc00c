"""Many calls of a service released at the same moment, as kiosks, staff and jobs may make
them: each call in its own thread and its own transaction, all let go by one barrier."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence

from booking.core.errors import DomainError

OK = "ok"
# How often each race runs, each time on fresh records: enough to show an unlocked rule on
# PostgreSQL, few enough to keep the suite quick. LINLI_RACE_REPEATS=20 runs the probe of
# issue 12 (20 repeats).
REPEATS = int(os.environ.get("LINLI_RACE_REPEATS", "3"))


def all_at_once(calls: Sequence[Callable[[], object]], *, timeout: float = 60) -> list[str]:
    """Run every call at once; return each one's outcome, in order: ``"ok"``, the code of
    the domain error it raised (a clean refusal), or the type and text of anything else
    (a deadlock, a unique index's IntegrityError: what a test must fail on)."""
    barrier = threading.Barrier(len(calls))
    outcomes = ["did not finish"] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout)
            call()
            outcomes[index] = OK
        except DomainError as error:
            outcomes[index] = error.code
        except Exception as error:  # noqa: BLE001  (reported as the outcome the test checks)
            outcomes[index] = f"{type(error).__name__}: {error}"

    threads = [
        threading.Thread(target=run, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return outcomes


def refusals_only(outcomes: Sequence[str], *allowed: str) -> None:
    """Every outcome is a success or one of the ``allowed`` domain refusals."""
    unexpected = [o for o in outcomes if o != OK and o not in allowed]
    assert not unexpected, f"not a clean refusal: {unexpected}"
