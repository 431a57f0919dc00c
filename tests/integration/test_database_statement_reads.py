"""``Database.read_statements``: hot reads without a transaction (no BEGIN, no ROLLBACK),
each statement seeing what is committed, and a session that cannot write."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from booking.core.db import Database, ReadOnlySessionError
from booking.core.models.sites import Site


def add_site(database: Database, slug: str) -> None:
    with database.write() as session:
        session.add(Site(slug=slug, name_zh="新华", name_en="Xinhua"))


def sites(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(Site)) or 0)


def test_a_statement_read_sees_what_was_committed_after_it_began(
    any_database: Database,
) -> None:
    with any_database.read_statements() as session:
        before = session.scalar(select(func.count()).select_from(Site))
        add_site(any_database, "xinhua")
        after = session.scalar(select(func.count()).select_from(Site))

    assert (before, after) == (0, 1)


def test_a_statement_read_refuses_to_write_and_writes_nothing(any_database: Database) -> None:
    with pytest.raises(ReadOnlySessionError), any_database.read_statements() as session:
        session.add(Site(slug="xinhua", name_zh="新华", name_en="Xinhua"))
        session.flush()

    assert sites(any_database) == 0


def test_a_statement_read_on_sqlite_opens_no_transaction_and_leaves_none_behind(
    database: Database,
) -> None:
    with database.read_statements() as session:
        session.execute(text("SELECT 1"))
        assert not session.connection().connection.dbapi_connection.in_transaction  # type: ignore[union-attr]

    # The same pooled connection, back in an ordinary read: BEGIN as before.
    with database.read() as session:
        session.execute(text("SELECT 1"))
        assert session.connection().connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


def test_a_statement_read_on_postgresql_runs_each_statement_on_its_own(
    postgres_database: Database,
) -> None:
    xact = text("SELECT pg_current_xact_id()::text")
    with postgres_database.read_statements() as session:
        first, second = session.scalar(xact), session.scalar(xact)
    assert first != second

    # The pooled connection is back to one transaction per block for everyone else.
    with postgres_database.read() as session:
        first, second = session.scalar(xact), session.scalar(xact)
    assert first == second
