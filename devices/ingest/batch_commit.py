"""Committing one batch of inbound device messages, retrying until it is committed.

The bridge's worker calls :func:`commit_batch` in its own thread, or has a process of its own
call it (:mod:`devices.ingest.batch_process`). What it returns is plain data (no ORM objects, so it
can cross a pipe): what to acknowledge, now committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from booking.core.clock import Clock
from booking.core.db import Database
from devices.ingest import apply as ingest
from devices.ingest.apply import Ack, Inbound, Outcome
from devices.ingest.reactions import Handlers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Committed:
    acks: list[Ack]
    applied: int
    duplicates: int
    dead_letters: dict[str, int]
    # Attempts that failed before this one committed (the database away, say).
    retries: int = 0
    # Topics whose retained copy the broker must forget (a retained event, refused).
    clear_retained: tuple[str, ...] = ()


def _committed(outcome: Outcome, retries: int) -> Committed:
    return Committed(
        acks=outcome.acks,
        applied=outcome.applied,
        duplicates=outcome.duplicates,
        dead_letters=dict(outcome.dead_letters),
        retries=retries,
        clear_retained=tuple(outcome.clear_retained),
    )


def commit_batch(
    database: Database,
    items: Sequence[Inbound],
    clock: Clock,
    handlers: Handlers,
    *,
    retry_delay: float,
    stopping: Callable[[float], bool],
) -> Committed | None:
    """Apply ``items`` in one write transaction and commit; None if asked to stop first.

    When a message raises, the batch is applied again with one savepoint per message, so
    only the culprit goes to the dead letters. When the database is away, wait
    ``retry_delay`` (``stopping(delay)`` waits and says whether to give up) and try again:
    the messages stay unacknowledged meanwhile, and the broker holds the rest.
    """
    done = commit_batches(
        database, [(items, handlers)], clock, retry_delay=retry_delay, stopping=stopping
    )
    return None if done is None else done[0]


def commit_batches(
    database: Database,
    batches: Sequence[tuple[Sequence[Inbound], Handlers]],
    clock: Clock,
    *,
    retry_delay: float,
    stopping: Callable[[float], bool],
) -> list[Committed] | None:
    """Several bridges' batches (each with its handlers) in one write transaction, each
    applied as :func:`commit_batch` applies one and answered on its own, in order.

    One transaction for many quiet centres' small batches rather than one each: a commit
    (BEGIN, COMMIT and its fsync, the session) cost a district worker as much as the one or
    two events most centres' batches hold (docs/scaling.md). If any message raises, every
    batch is applied again isolated (a savepoint per message), so only culprits become dead
    letters; an outage retries them all.
    """
    retries = 0
    while True:
        now = clock.now()
        try:
            try:
                with database.write() as session:
                    outcomes = ingest.apply_batches(session, batches, now)
            except Exception as error:
                if ingest.is_outage(error):
                    raise
                with database.write() as session:
                    outcomes = ingest.apply_batches(session, batches, now, isolate=True)
            return [_committed(outcome, retries) for outcome in outcomes]
        except Exception:
            log.exception(
                "ingest of %d messages failed; retrying", sum(len(items) for items, _ in batches)
            )
            retries += 1
            if stopping(retry_delay):
                return None
