"""The statements a test's code sends to the database, counted by verb and first table."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from booking.core.db import Database


@contextmanager
def statements_run(database: Database) -> Iterator[Counter[tuple[str, str]]]:
    """The statements sent to the database meanwhile, by verb and first table ("" for none,
    as PostgreSQL's ``SELECT pg_notify(…)``)."""
    run: Counter[tuple[str, str]] = Counter()

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement, re.IGNORECASE)
        run[(statement.split()[0].upper(), table.group(1) if table else "")] += 1

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        yield run
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
