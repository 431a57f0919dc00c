"""What Linli writes into its instance folder is its own user's alone: the folder 0700, the
SQLite database (and its write-ahead log), the secret key and the bridge's password 0600,
whatever the process's umask would have allowed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from booking.core.db import Database
from kiosk import create_app, mqtt_config


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that lets everybody read what is created: Linli must not rely on a strict one."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.usefixtures("open_umask")
def test_a_first_start_makes_a_private_instance_folder_key_and_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.extensions import database

    instance = tmp_path / "instance"
    monkeypatch.setenv("LINLI_INSTANCE_PATH", str(instance))
    app = create_app({"TESTING": True})
    with app.app_context():
        with database().write() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
            session.execute(text("INSERT INTO t VALUES (1)"))
        assert mode(instance) == 0o700
        assert mode(instance / "secret_key") == 0o600
        assert mode(instance / "linli.sqlite3") == 0o600
        assert mode(instance / "linli.sqlite3-wal") == 0o600
        database().dispose()


@pytest.mark.usefixtures("open_umask")
def test_a_new_sqlite_database_anywhere_is_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "centre.sqlite3"
    db = Database(f"sqlite:///{path}")
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        assert mode(path) == 0o600
        assert mode(path.parent) == 0o700
    finally:
        db.dispose()


@pytest.mark.usefixtures("open_umask")
def test_an_existing_database_keeps_the_mode_its_operator_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "centre.sqlite3"
    path.touch(mode=0o640)
    path.chmod(0o640)
    db = Database(f"sqlite:///{path}")
    try:
        with db.write() as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        assert mode(path) == 0o640
    finally:
        db.dispose()


@pytest.mark.usefixtures("open_umask")
def test_the_bridge_password_kept_in_the_instance_folder_is_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    mqtt_config.server_password(str(instance), None)
    assert mode(instance) == 0o700
    assert mode(instance / mqtt_config.SERVER_PASSWORD_FILE) == 0o600
