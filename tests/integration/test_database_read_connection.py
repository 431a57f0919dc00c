"""``Database.read_connection``: the statement read's connection alone, with an ORM session
made on it only when asked, which still cannot write and leaves the connection open."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from booking.core.db import Database, ReadOnlySessionError
from booking.core.driver_sql import DriverStatement
from booking.core.models.sites import Site


def test_a_read_connection_sees_what_was_committed_after_it_opened(
    any_database: Database,
) -> None:
    count = select(func.count()).select_from(Site)
    with any_database.read_connection() as connection:
        before = connection.execute(count).scalar_one()
        with any_database.write() as session:
            session.add(Site(slug="xinhua", name_zh="新华", name_en="Xinhua"))
        after = connection.execute(count).scalar_one()

    assert (before, after) == (0, 1)


def test_a_session_on_a_read_connection_refuses_to_write_and_leaves_the_connection_open(
    any_database: Database,
) -> None:
    with any_database.read_connection() as connection:
        session = any_database.statement_session(connection)
        with pytest.raises(ReadOnlySessionError), session:
            session.add(Site(slug="xinhua", name_zh="新华", name_en="Xinhua"))
            session.flush()

        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    with any_database.read() as session:
        assert session.scalar(select(func.count()).select_from(Site)) == 0


def test_a_read_connection_on_sqlite_opens_no_transaction(database: Database) -> None:
    with database.read_connection() as connection:
        connection.execute(text("SELECT 1"))
        assert not connection.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


def test_a_driver_read_on_a_read_connection_begins_nothing_and_sees_each_commit(
    any_database: Database,
) -> None:
    slugs = DriverStatement(select(Site.slug))
    with any_database.read_connection() as connection:
        assert slugs.rows(connection, {}) == []
        assert not connection.in_transaction()
        with any_database.write() as session:
            session.add(Site(slug="xinhua", name_zh="新华", name_en="Xinhua"))
        assert slugs.rows(connection, {}) == [("xinhua",)]
        # An ORM read after it works as before, on the same connection.
        assert any_database.statement_session(connection).scalar(select(Site.slug)) == "xinhua"


def test_a_driver_read_on_any_other_connection_still_begins_as_execute_would(
    any_database: Database,
) -> None:
    with any_database.engine.connect() as connection:
        DriverStatement(select(Site.slug)).rows(connection, {})
        assert connection.in_transaction()
