"""How often a device re-sends its unacked events (docs/protocol.md §5).

A server that has not acked within the wait is behind (or away); re-sending at the same pace
would multiply its backlog, every waiting event arriving again every few seconds
(docs/scaling.md). So each round that finds events still unacked doubles the wait, up to
``CAP`` times the first, with jitter so that devices that lost the server together do not
return in step; the wait starts over once the outbox is empty, on a new connection or when
the server is back.
"""

from __future__ import annotations

import random

# 5 s → at most 60 s.
CAP = 12


class ResendPace:
    def __init__(self, first_wait: float) -> None:
        self.first_wait = first_wait
        self.wait = first_wait
        self.last = 0.0

    def due(self, now: float) -> bool:
        return now - self.last >= self.wait

    def round_done(self, now: float, resent: int) -> None:
        """A round at ``now`` re-sent ``resent`` events: wait longer if any were left."""
        self.last = now
        if resent:
            grown = min(self.wait * 2, self.first_wait * CAP)
            self.wait = grown * random.uniform(0.9, 1.0)
        else:
            self.wait = self.first_wait

    def start_over(self, now: float) -> None:
        """The next round ``first_wait`` after ``now``."""
        self.last = now
        self.wait = self.first_wait
