"""The device's durable memory: one SQLite file per device that survives power loss.

It holds what a real locker keeps in flash: the session counter (Sparkplug bdSeq, which must
never go down), the high-water mark of seq in that session, every event not yet acked by the
server, and the answers given to each command id (so a repeated command is never executed
twice, even across a restart).

And one thing no flash holds: what lies in each compartment. A real locker's item sensors
read that afresh after a power cut, and the tools are where people left them; the simulator
has no tools, so it keeps the world's side here, or a restarted simulator would report every
drill that is out on loan as back in its compartment.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    session INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (session, seq)
);
CREATE TABLE IF NOT EXISTS answers (
    command_id TEXT PRIMARY KEY,
    executed INTEGER NOT NULL DEFAULT 0,
    answers TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS contents (
    compartment INTEGER PRIMARY KEY,
    item_present INTEGER NOT NULL
);
"""


class DeviceStore:
    """Thread-safe access to ``{state_dir}/{device_id}.sqlite3``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # One connection shared by the link and the device threads, serialised by our lock.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- session counter and seq ------------------------------------------------------------

    def _get(self, key: str, default: int) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else default

    def _set(self, key: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def current_session(self) -> tuple[int, int]:
        """The last session counter used and the next seq in it."""
        with self._lock:
            return self._get("session", 0), self._get("next_seq", 0)

    def begin_session(self) -> int:
        """Add one to the session counter, durably, before a connect attempt."""
        with self._lock, self._db:
            session = self._get("session", 0) + 1
            self._set("session", session)
            self._set("next_seq", 0)
            return session

    def take_seq(self) -> tuple[int, int]:
        """The (session, seq) for the next seq'd message, recorded before it is sent."""
        with self._lock, self._db:
            session = self._get("session", 0)
            seq = self._get("next_seq", 0)
            self._set("next_seq", seq + 1)
            return session, seq

    # --- outbox -----------------------------------------------------------------------------

    def keep_event(self, session: int, seq: int, payload: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO outbox (session, seq, payload) VALUES (?, ?, ?)",
                (session, seq, json.dumps(payload, separators=(",", ":"))),
            )

    def acked(self, session: int, ranges: list[tuple[int, int]]) -> int:
        """Forget the events of ``session`` the server has committed, given as inclusive
        (first, last) seq ranges, in one transaction; how many events it keeps after that
        (counted in the same transaction: an event kept meanwhile by another thread is either
        counted or comes after)."""
        with self._lock, self._db:
            for first, last in ranges:
                self._db.execute(
                    "DELETE FROM outbox WHERE session = ? AND seq BETWEEN ? AND ?",
                    (session, first, last),
                )
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def unacked(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT payload FROM outbox ORDER BY session, seq").fetchall()
        return [json.loads(row[0]) for row in rows]

    def unacked_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    # --- command answers --------------------------------------------------------------------

    def answers(self, command_id: str) -> list[dict[str, Any]] | None:
        """The answers already given to a command id, or None if it was never seen."""
        with self._lock:
            row = self._db.execute(
                "SELECT answers FROM answers WHERE command_id = ?", (command_id,)
            ).fetchone()
        return None if row is None else list(json.loads(row[0]))

    def record_answer(
        self, command_id: str, answer: dict[str, Any], *, executed: bool = False
    ) -> None:
        with self._lock, self._db:
            row = self._db.execute(
                "SELECT answers, executed FROM answers WHERE command_id = ?", (command_id,)
            ).fetchone()
            previous = json.loads(row[0]) if row else []
            was_executed = bool(row[1]) if row else False
            self._db.execute(
                "INSERT OR REPLACE INTO answers (command_id, executed, answers) VALUES (?, ?, ?)",
                (command_id, int(executed or was_executed), json.dumps([*previous, answer])),
            )

    def executed_commands(self) -> list[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT command_id FROM answers WHERE executed = 1 ORDER BY rowid"
            ).fetchall()
        return [row[0] for row in rows]

    # --- the world: what lies in each compartment -------------------------------------------

    def contents(self) -> dict[int, bool]:
        """Whether an item lies in each compartment, as last left (those never changed: not listed)."""
        with self._lock:
            rows = self._db.execute("SELECT compartment, item_present FROM contents").fetchall()
        return {int(n): bool(present) for n, present in rows}

    def keep_contents(self, compartment: int, item_present: bool) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO contents (compartment, item_present) VALUES (?, ?)",
                (compartment, int(item_present)),
            )
