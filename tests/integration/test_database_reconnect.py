"""Pooled connections without a ping on every checkout: a server restart is still survived.

A restart looks to the client like the server ending every backend, which is what
``pg_terminate_backend`` does to the connections of this test alone (found by their
application name, so nobody else's are touched).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import create_engine, exc, text

from booking.core.db import Database
from tests.conftest import POSTGRES_URL, SKIP_NO_POSTGRES


@pytest.fixture
def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip(SKIP_NO_POSTGRES)
    return POSTGRES_URL


def own_database(url: str, **kwargs: Any) -> tuple[Database, str]:
    name = f"linli-test-{uuid.uuid4().hex[:10]}"
    return Database(url, connect_args={"application_name": name}, **kwargs), name


def restart_seen_by(url: str, application_name: str) -> int:
    """End every server connection of ``application_name``, as a restart would."""
    admin = create_engine(url)
    try:
        with admin.begin() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": application_name},
                ).all()
            )
    finally:
        admin.dispose()


def select_one(database: Database) -> int:
    with database.read() as session:
        return int(session.execute(text("SELECT 1")).scalar_one())


def count_pings(monkeypatch: pytest.MonkeyPatch, database: Database) -> list[object]:
    """Every ping ``database``'s pool sends, counted (on its dialect, whichever it is)."""
    sent: list[object] = []
    dialect = database.engine.dialect
    real = dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        sent.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return sent


def test_a_connection_idle_through_a_restart_is_replaced_before_anyone_uses_it(
    postgres_url: str,
) -> None:
    # Idle "long enough" at once, so the test needs no sleep.
    database, name = own_database(postgres_url, idle_ping_after=0.0)
    try:
        assert select_one(database) == 1
        assert restart_seen_by(postgres_url, name) == 1

        assert select_one(database) == 1
    finally:
        database.dispose()


def test_a_busy_connection_cut_by_a_restart_fails_one_request_and_the_next_reconnect(
    postgres_url: str,
) -> None:
    database, name = own_database(postgres_url, idle_ping_after=3600.0)
    try:
        # Two pooled connections, both cut.
        with database.read() as first, database.read() as second:
            first.execute(text("SELECT 1"))
            second.execute(text("SELECT 1"))
        assert restart_seen_by(postgres_url, name) == 2

        with pytest.raises(exc.OperationalError) as cut:
            select_one(database)
        assert cut.value.connection_invalidated

        # The disconnect invalidated the whole pool: the other cut connection is not reused.
        assert [select_one(database) for _ in range(3)] == [1, 1, 1]
    finally:
        database.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, _ = own_database(postgres_url)
    pings = count_pings(monkeypatch, database)
    try:
        for _ in range(5):
            select_one(database)
    finally:
        database.dispose()

    assert pings == []


def test_a_connection_idle_for_longer_than_the_limit_is_pinged(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    database, _ = own_database(postgres_url, idle_ping_after=0.0)
    pings = count_pings(monkeypatch, database)
    try:
        select_one(database)  # a new connection: nothing to check
        select_one(database)
    finally:
        database.dispose()

    assert len(pings) == 1


def test_sqlite_connections_are_never_pinged(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'ping.sqlite3'}", idle_ping_after=0.0)
    pings = count_pings(monkeypatch, database)
    try:
        for _ in range(3):
            select_one(database)
    finally:
        database.dispose()

    assert pings == []
