"""``DriverStatement``: a Core select run on the DB-API cursor answers exactly what
``Connection.execute`` would, on each backend, and fails the way SQLAlchemy fails; a
``DriverInsert`` stores rows the ORM reads back as given."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import Table, bindparam, create_engine, exc, select, text

from booking.core.db import Database, UTCDateTime
from booking.core.driver_sql import DriverInsert, DriverStatement, json_rows
from booking.core.models.sites import Site
from booking.people.models.staff import StaffAccount, StaffRole
from tests.conftest import POSTGRES_URL, SKIP_NO_POSTGRES

CREATED = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)

ACCOUNTS = (
    select(
        StaffAccount.id,
        StaffAccount.username,
        StaffAccount.role,
        StaffAccount.is_active,
        StaffAccount.created_at,
    )
    .where(
        StaffAccount.created_at > bindparam("after", type_=UTCDateTime),
        StaffAccount.role == StaffRole.ADMIN,
    )
    .order_by(StaffAccount.id)
)


def add_accounts(database: Database) -> None:
    with database.write() as session:
        site = Site(slug="xinhua", name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        for n, role in enumerate((StaffRole.ADMIN, StaffRole.STAFF, StaffRole.ADMIN)):
            session.add(
                StaffAccount(
                    site_id=site.id,
                    username=f"staff{n}",
                    display_name=f"Staff {n}",
                    password_hash="x",
                    role=role,
                    is_active=n != 2,
                    created_at=CREATED + timedelta(minutes=n),
                    password_changed_at=CREATED,
                )
            )


def test_a_driver_statement_answers_the_typed_rows_connection_execute_gives(
    any_database: Database,
) -> None:
    add_accounts(any_database)
    statement = DriverStatement(ACCOUNTS)
    params = {"after": CREATED - timedelta(seconds=1)}

    with any_database.engine.connect() as connection:
        expected = [tuple(row) for row in connection.execute(ACCOUNTS, params)]
        got = statement.rows(connection, params)
        again = statement.rows(connection, params)  # the compiled form, reused

    assert got == again == expected
    assert [row[1] for row in got] == ["staff0", "staff2"]
    _, _, role, is_active, created_at = got[1]
    assert role is StaffRole.ADMIN
    assert is_active is False
    assert created_at == CREATED + timedelta(minutes=2)
    assert created_at.tzinfo is not None


def test_a_driver_statement_on_a_fresh_connection_reads_in_its_transaction_as_execute_would(
    database: Database,
) -> None:
    add_accounts(database)
    with database.engine.connect() as connection:
        DriverStatement(ACCOUNTS).rows(connection, {"after": CREATED})
        assert connection.in_transaction()
        assert connection.connection.dbapi_connection.in_transaction  # type: ignore[union-attr]


def test_a_driver_statement_refuses_a_parameter_whose_sql_changes_per_execution(
    database: Database,
) -> None:
    expanding = select(StaffAccount.id).where(StaffAccount.id.in_(bindparam("ids", expanding=True)))

    with database.engine.connect() as connection, pytest.raises(ValueError, match="ids"):
        DriverStatement(expanding).rows(connection, {"ids": [1]})


def test_a_driver_statement_without_a_value_it_needs_fails_as_sqlalchemy_does(
    database: Database,
) -> None:
    with (
        database.engine.connect() as connection,
        pytest.raises(exc.StatementError, match="'after'"),
    ):
        DriverStatement(ACCOUNTS).rows(connection, {})


def test_a_driver_statement_cut_by_a_server_restart_fails_once_and_the_pool_reconnects() -> None:
    if not POSTGRES_URL:
        pytest.skip(SKIP_NO_POSTGRES)
    name = f"linli-test-{uuid.uuid4().hex[:10]}"
    database = Database(
        POSTGRES_URL, connect_args={"application_name": name}, idle_ping_after=3600.0
    )
    one = DriverStatement(select(bindparam("one", type_=StaffAccount.id.type)))
    admin = create_engine(POSTGRES_URL)
    try:
        with database.engine.connect() as connection:
            assert one.rows(connection, {"one": 1}) == [(1,)]
        with admin.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": name},
            )

        with pytest.raises(exc.OperationalError) as cut, database.engine.connect() as connection:
            one.rows(connection, {"one": 1})
        assert cut.value.connection_invalidated

        with database.engine.connect() as connection:
            assert one.rows(connection, {"one": 1}) == [(1,)]
    finally:
        admin.dispose()
        database.dispose()


def test_json_rows_gives_every_row_as_one_json_array_in_a_single_row(
    any_database: Database,
) -> None:
    add_accounts(any_database)
    statement = DriverStatement(
        select(json_rows(StaffAccount.username, StaffAccount.is_active)).where(
            StaffAccount.created_at >= bindparam("after", type_=UTCDateTime)
        )
    )

    with any_database.engine.connect() as connection:
        ((everyone,),) = statement.rows(connection, {"after": CREATED})
        ((no_one,),) = statement.rows(connection, {"after": CREATED + timedelta(days=1)})

    # Booleans are 0/1 on SQLite, true/false on PostgreSQL: both compare equal to bools.
    assert sorted(everyone) == [["staff0", True], ["staff1", True], ["staff2", False]]
    assert not no_one  # [] on SQLite, None on PostgreSQL


# --- DriverInsert ---------------------------------------------------------------------------


STAFF = cast(Table, StaffAccount.__table__)


def _site(database: Database) -> int:
    with database.write() as session:
        site = Site(slug="xinhua", name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        return site.id


def test_a_driver_insert_stores_rows_as_the_orm_reads_them_whatever_the_column_order(
    any_database: Database,
) -> None:
    site_id = _site(any_database)
    # Not the table's column order, so positional drivers need the values reordered.
    rows = DriverInsert(
        STAFF,
        ("username", "role", "created_at", "display_name", "is_active"),
        shared=("site_id", "password_hash", "password_changed_at"),
    )
    with any_database.write() as session:
        rows.insert_many(
            session.connection(),
            [
                ("zhao", StaffRole.STAFF, CREATED, "赵敏", True),
                ("sun", StaffRole.ADMIN, CREATED + timedelta(hours=1), "孙主任", False),
            ],
            {"site_id": site_id, "password_hash": "x", "password_changed_at": CREATED},
        )
    with any_database.read() as session:
        stored = session.scalars(select(StaffAccount).order_by(StaffAccount.username)).all()
        assert [
            (a.username, a.role, a.created_at, a.display_name, a.is_active, a.site_id)
            for a in stored
        ] == [
            ("sun", StaffRole.ADMIN, CREATED + timedelta(hours=1), "孙主任", False, site_id),
            ("zhao", StaffRole.STAFF, CREATED, "赵敏", True, site_id),
        ]
        assert {a.password_changed_at for a in stored} == {CREATED}


def test_a_driver_insert_refuses_shared_values_other_than_it_was_made_for(
    any_database: Database,
) -> None:
    rows = DriverInsert(STAFF, ("username",), shared=("site_id",))
    with pytest.raises(ValueError, match="shared values"), any_database.write() as session:
        rows.insert_many(session.connection(), [("zhao",)], {"role": StaffRole.STAFF})
