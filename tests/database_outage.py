"""A database that really goes away and comes back, for the outage tests.

PostgreSQL: the app connects as a role of its own; the outage forbids that role to log in
and ends its connections, as a server restart or a lost network would (every statement then
fails with an OperationalError, and so does every new connection). It ends when the role may
log in again.

SQLite: another process takes the file's WAL-index locks, as a stuck backup or maintenance
tool would; every transaction of the app then fails ("locking protocol", after SQLite's own
retries of about ten seconds). It ends when that process lets go.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from tests.conftest import POSTGRES_URL, _postgres_schema_url

# The WAL index's lock bytes in the -shm file: the write, checkpoint and recovery locks and
# the five read marks (SQLite's wal.c, WAL_WRITE_LOCK .. WAL_READ_LOCK(4)).
_SHM_LOCKS = "fcntl.lockf(shm, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 120)"
# The app may hold one of them for a moment (a read mark during a request the page made by
# itself): wait for it, as a stuck backup would have. Taking them at the first try failed the
# browser's outage test on a busy CI machine, the holder gone before it said "held".
_HOLD_SHM = f"""
import fcntl, os, sys, time
shm = os.open(sys.argv[1], os.O_RDWR)
deadline = time.monotonic() + 10
while True:
    try:
        {_SHM_LOCKS}
        break
    except BlockingIOError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.01)
print("held", flush=True)
sys.stdin.read()
"""


@dataclass
class DatabaseOutage:
    """``start()`` takes the app's database away; ``end()`` gives it back."""

    url: str
    backend: str
    admin_url: str = ""
    role: str = ""
    _holder: subprocess.Popen[str] | None = None

    def start(self) -> None:
        if self.backend == "sqlite":
            shm = f"{make_url(self.url).database}-shm"
            assert Path(shm).exists(), "open the database (WAL mode) before taking it away"
            self._holder = subprocess.Popen(
                [sys.executable, "-c", _HOLD_SHM, shm],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self._holder.stdout is not None
            said = self._holder.stdout.readline().strip()
            if said != "held":
                self.end()  # nothing left running for a later test to trip over
                raise AssertionError(f"the lock holder did not take the locks: {said!r}")
            return
        self._admin(
            f'ALTER ROLE "{self.role}" NOLOGIN',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role",
        )

    def end(self) -> None:
        if self.backend == "sqlite":
            if self._holder is not None:
                assert self._holder.stdin is not None
                self._holder.stdin.close()
                self._holder.wait(timeout=10)
                if self._holder.stdout is not None:
                    self._holder.stdout.close()
                self._holder = None
            return
        self._admin(f'ALTER ROLE "{self.role}" LOGIN')

    def _admin(self, *statements: str) -> None:
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for statement in statements:
                    params = {"role": self.role} if ":role" in statement else {}
                    conn.execute(text(statement), params)
        finally:
            admin.dispose()


@contextmanager
def outage_database(backend: str, tmp_path: Path) -> Iterator[DatabaseOutage]:
    """An empty database the app may use, and the means to take it away (see the module)."""
    if backend == "sqlite":
        outage = DatabaseOutage(f"sqlite:///{tmp_path / 'outage.sqlite3'}", "sqlite")
        try:
            yield outage
        finally:
            outage.end()
        return
    assert POSTGRES_URL
    for admin_url in _postgres_schema_url(POSTGRES_URL):
        schema = admin_url.rsplit("search_path%3D", 1)[-1]
        role = f"linli_outage_{uuid.uuid4().hex[:10]}"
        app_url = make_url(admin_url).set(username=role).render_as_string(hide_password=False)
        outage = DatabaseOutage(app_url, "postgresql", admin_url=admin_url, role=role)
        outage._admin(
            f'CREATE ROLE "{role}" LOGIN',
            f'GRANT USAGE, CREATE ON SCHEMA "{schema}" TO "{role}"',
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT ALL ON TABLES TO "{role}"',
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" GRANT ALL ON SEQUENCES TO "{role}"',
        )
        try:
            yield outage
        finally:
            outage._admin(
                f'ALTER ROLE "{role}" NOLOGIN',
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role",
                f'DROP OWNED BY "{role}"',
                f'DROP ROLE "{role}"',
            )
