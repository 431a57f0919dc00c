from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from booking.core.db import Database
from kiosk import migrate


def test_sqlite_connections_use_write_ahead_logging(database: Database) -> None:
    with database.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_sqlite_connections_enforce_foreign_keys_and_wait_when_busy(database: Database) -> None:
    with database.read() as session:
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_write_transaction_on_sqlite_holds_the_write_lock_from_its_start(
    database: Database,
) -> None:
    other = Database(database.url)
    with database.write():
        # The other writer cannot start while the first holds the reserved lock.
        raw = other.engine.raw_connection()
        try:
            raw.execute("PRAGMA busy_timeout=0")  # type: ignore[attr-defined]
            try:
                raw.execute("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
                locked = False
            except Exception as error:  # sqlite3.OperationalError: database is locked
                locked = "locked" in str(error)
        finally:
            raw.close()
    other.dispose()
    assert locked


def test_migrations_upgrade_an_empty_database_to_head(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    heads = migrate.alembic_config(empty_database_url)
    from alembic.script import ScriptDirectory

    assert (
        migrate.current(empty_database_url) == ScriptDirectory.from_config(heads).get_current_head()
    )


def test_migrated_schema_matches_the_models(empty_database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    import devices.models  # noqa: F401  (registers the device tables)
    import kiosk.models  # noqa: F401  (registers the worker lease)
    from booking.core.db import Base

    migrate.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={"include_object": lambda obj, name, type_, *_: name != "apscheduler_jobs"},
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrations_create_the_booking_exclusion_constraints_on_postgresql(
    empty_database_url: str,
) -> None:
    if not empty_database_url.startswith("postgresql"):
        return  # SQLite has no exclusion constraints; BEGIN IMMEDIATE serialises its writers.
    from sqlalchemy import create_engine

    migrate.upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            names = conn.scalars(
                text(
                    "SELECT conname FROM pg_constraint "
                    "WHERE contype = 'x' AND conrelid = 'bookings'::regclass ORDER BY conname"
                )
            ).all()
    finally:
        engine.dispose()
    assert names == ["ex_bookings_room_overlap", "ex_bookings_seat_overlap"]


def test_sqlite_writers_of_one_process_queue_instead_of_failing_as_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from booking.core import db

    # Without SQLite's own busy wait, any overlap of two writers would fail at once.
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 0)
    database = Database(f"sqlite:///{tmp_path / 'queue.sqlite3'}")
    with database.write() as session:
        session.execute(text("CREATE TABLE counter (n INTEGER)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []

    def increment() -> None:
        try:
            with database.write() as session:
                n = session.execute(text("SELECT n FROM counter")).scalar_one()
                time.sleep(0.005)
                session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as error:  # noqa: BLE001 (collected for the assertion)
            errors.append(error)

    threads = [threading.Thread(target=increment) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.read() as session:
        total = session.execute(text("SELECT n FROM counter")).scalar_one()
    database.dispose()
    assert errors == []
    assert total == 16
