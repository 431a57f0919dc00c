"""Fixtures shared by the whole suite.

An empty database per test: an SQLite file in tmp_path, and, when
LINLI_TEST_DATABASE_URL is set, a PostgreSQL schema as well: a new one, or for
``any_database`` one emptied after an earlier test of the same process (``_EmptiedSchemas``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import Engine, create_engine, create_mock_engine, inspect, text

import devices.models  # noqa: F401  (so create_all makes every table)
import kiosk.models  # noqa: F401  (the worker lease)
from booking.core.clock import FrozenClock
from booking.core.db import Base, Database
from booking.people import passwords
from tests import url_builders

url_builders.compile_once()

# Argon2 at production cost makes every sign-in in the suite take ~50 ms; the rules are the same.
passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))

POSTGRES_URL = os.environ.get("LINLI_TEST_DATABASE_URL")
SKIP_NO_POSTGRES = "PostgreSQL not configured: set LINLI_TEST_DATABASE_URL (CI does)"


def pytest_configure(config: pytest.Config) -> None:
    """btree_gist, which the bookings' exclusion constraint needs, made once before the test
    processes start: made by the first schema of each at once, on a new database, all but
    one failed (``CREATE EXTENSION IF NOT EXISTS`` is not safe run concurrently)."""
    if not POSTGRES_URL or hasattr(config, "workerinput"):
        return
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public"))
    finally:
        admin.dispose()


def _new_schema_name() -> str:
    """A test schema's name: ``t_`` and 12 random hex digits, for new and emptied schemas alike."""
    return f"t_{uuid.uuid4().hex[:12]}"


def _schema_url(base_url: str, schema: str) -> str:
    """``base_url`` for connections that see only ``schema``."""
    sep = "&" if "?" in base_url else "?"
    return f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}"


def _postgres_schema_url(base_url: str) -> Iterator[str]:
    """A URL whose connections see only a new, empty schema; dropped afterwards."""
    schema = _new_schema_name()
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _schema_url(base_url, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


_POSTGRES_DDL: list[str] = []


def create_tables(engine: Engine) -> None:
    """The schema's tables, as ``Base.metadata.create_all`` makes them.

    On PostgreSQL the same statements go in one round trip: each test's new schema cost
    0.4 s made statement by statement (with a look for each table first), a tenth of the
    suite's time on CI's clock; one script costs two thirds of that.
    """
    if engine.dialect.name != "postgresql" or inspect(engine).has_table("sites"):
        # Made already (a fixture's schema the app's own setup makes again): create_all
        # looks first and adds only what is missing.
        Base.metadata.create_all(engine)
        return
    if not _POSTGRES_DDL:
        statements: list[str] = []
        mock = create_mock_engine(
            "postgresql+psycopg://",
            lambda sql, *_a, **_k: statements.append(str(sql.compile(dialect=mock.dialect))),
        )
        Base.metadata.create_all(mock, checkfirst=False)
        _POSTGRES_DDL.append(";\n".join(statement.strip() for statement in statements) + ";")
    with engine.begin() as connection:
        connection.exec_driver_sql(_POSTGRES_DDL[0])


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every table, made once per test process, for tests to copy.

    ``create_all`` on a new file cost 40-100 ms (a look for each table, then its DDL) in
    most of the suite's tests; a copy costs under a millisecond. The file is in
    WAL mode, which lives in its header; closing its last connection checkpointed it.
    """
    template = tmp_path_factory.mktemp("schema") / "linli.sqlite3"
    database = Database(f"sqlite:///{template}")
    Base.metadata.create_all(database.engine)
    database.dispose()
    return template


def sqlite_with_schema(template: Path, path: Path) -> str:
    """A copy of ``template`` at ``path``; its URL."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


def database_url_on(backend: str, directory: Any) -> Iterator[str]:
    """An empty database: a SQLite file in ``directory``, or a PostgreSQL schema of its own
    (skipped when PostgreSQL is not configured), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'linli.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip(SKIP_NO_POSTGRES)
    yield from _postgres_schema_url(POSTGRES_URL)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """An empty database on each backend (PostgreSQL skipped when not configured)."""
    yield from database_url_on(request.param, tmp_path)


class _EmptiedSchemas:
    """PostgreSQL schemas with every table, emptied for the next test of this process.

    Why: a new schema cost 0.3-0.4 s of DDL in each of the ~480 domain tests on PostgreSQL,
    most of it the server's, on CI's two cores. Emptying the tables costs a few
    milliseconds. An emptied schema is as the next test would find a new one: no rows, and
    every sequence back at 1. A schema that cannot be emptied at once (a lock still held)
    is set aside, and the next test gets a new one.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
        self.emptier = create_engine(base_url)  # in a transaction, for its SET LOCAL
        self.tables = [table.name for table in Base.metadata.sorted_tables]
        self.free: list[str] = []
        self.made: set[str] = set()

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        schema = _new_schema_name()
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.made.add(schema)
        engine = create_engine(self.url(schema))
        try:
            create_tables(engine)
        finally:
            engine.dispose()
        return schema

    def url(self, schema: str) -> str:
        return _schema_url(self.base_url, schema)

    def give_back(self, schema: str) -> None:
        try:
            self._empty(schema)
        except Exception:
            # Whatever stopped it (a lock still held) would hold up a drop as well: the
            # schema is set aside, for close() to drop.
            return
        self.free.append(schema)

    def _empty(self, schema: str) -> None:
        with self.emptier.begin() as connection:
            used = connection.execute(
                text(
                    "SELECT sequencename, last_value FROM pg_sequences"
                    " WHERE schemaname = :schema AND last_value IS NOT NULL"
                ),
                {"schema": schema},
            ).all()
            # One round trip. Superuser only: with the replica role, foreign keys are not
            # checked, so the order does not matter; a lock still held fails it within a second.
            connection.exec_driver_sql(
                "SET LOCAL session_replication_role = replica;"
                " SET LOCAL lock_timeout = '1s';"
                + "".join(f' DELETE FROM "{schema}"."{table}";' for table in self.tables)
                + "".join(f' SELECT setval(\'"{schema}"."{name}"\', 1, false);' for name, _ in used)
            )
        if sum(last for _, last in used) > 2000:
            # No autovacuum on CI's server: without this, a test that filled the tables
            # (the demo's history) would leave later tests scanning its dead rows. The ids
            # it was handed count its rows closely enough.
            with self.admin.connect() as connection:
                connection.exec_driver_sql(
                    "VACUUM " + ", ".join(f'"{schema}"."{table}"' for table in self.tables)
                )

    def close(self) -> None:
        left: list[str] = []
        for schema in self.made:
            try:
                with self.admin.connect() as connection:
                    # A lock still held at the end (a set-aside schema's) must not hang the run.
                    connection.exec_driver_sql("SET lock_timeout = '10s'")
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            except Exception as error:
                left.append(f"{schema} ({error})")
        self.admin.dispose()
        self.emptier.dispose()
        if left:
            warnings.warn(f"PostgreSQL schemas left behind: {', '.join(left)}", stacklevel=1)


@pytest.fixture(scope="session")
def emptied_schemas() -> Iterator[_EmptiedSchemas | None]:
    if not POSTGRES_URL:
        yield None
        return
    schemas = _EmptiedSchemas(POSTGRES_URL)
    yield schemas
    schemas.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_schema: Path,
    emptied_schemas: _EmptiedSchemas | None,
) -> Iterator[Database]:
    """The schema on each backend, for domain rules that must hold on both."""
    if request.param == "sqlite":
        database = Database(sqlite_with_schema(sqlite_schema, tmp_path / "linli.sqlite3"))
        yield database
        database.dispose()
        return
    if emptied_schemas is None:
        pytest.skip(SKIP_NO_POSTGRES)
    schema = emptied_schemas.take()
    database = Database(emptied_schemas.url(schema))
    try:
        yield database
    finally:
        database.dispose()
        emptied_schemas.give_back(schema)


@pytest.fixture
def postgres_database() -> Iterator[Database]:
    """The schema on PostgreSQL only, for what only PostgreSQL enforces (skipped when not configured)."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_NO_POSTGRES)
    for url in _postgres_schema_url(POSTGRES_URL):
        database = Database(url)
        create_tables(database.engine)
        try:
            yield database
        finally:
            database.dispose()


@pytest.fixture
def database(tmp_path: Any, sqlite_schema: Path) -> Iterator[Database]:
    """The schema on SQLite only, for tests about behaviour rather than the database."""
    database = Database(sqlite_with_schema(sqlite_schema, tmp_path / "linli.sqlite3"))
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    # A Tuesday morning in Shanghai (01:30 UTC = 09:30 local).
    return FrozenClock(datetime(2026, 11, 24, 1, 30, tzinfo=UTC))


@pytest.fixture
def app(tmp_path: Any, clock: FrozenClock, sqlite_schema: Path) -> Iterator[Flask]:
    from kiosk import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": sqlite_with_schema(sqlite_schema, tmp_path / "app.sqlite3"),
            "CLOCK": clock,
        }
    )
    app.instance_path = str(tmp_path)
    from kiosk.extensions import database as app_database

    yield app
    with app.app_context():
        app_database().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def demo(app: Flask, clock: FrozenClock) -> None:
    """The demo centre seeded into the app's database."""
    from booking.demo import centre as demo_centre
    from kiosk.extensions import database as app_database

    with app.app_context(), app_database().write() as session:
        demo_centre.seed(session, now=clock.now())


# --- MQTT brokers -----------------------------------------------------------------------------

MQTT_URL = os.environ.get("LINLI_TEST_MQTT_URL")
SKIP_NO_MOSQUITTO = "Mosquitto not installed: these tests start their own broker process"
SKIP_AMQTT = (
    "Mosquitto not installed, and this test needs Mosquitto's delivery: amqtt sends a returning"
    " persistent session every retained message of its subscriptions again (Mosquitto sends"
    " them on SUBSCRIBE only)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``mosquitto`` skip, saying why, where only amqtt can stand in for it."""
    from kiosk.broker import mosquitto_binary

    if MQTT_URL or mosquitto_binary() is not None:
        return
    for item in items:
        if item.get_closest_marker("mosquitto") is not None:
            item.add_marker(pytest.mark.skip(reason=SKIP_AMQTT))


@pytest.fixture(scope="session")
def mqtt_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker for protocol tests, shared by the session (so tests use a unique site slug).

    The one LINLI_TEST_MQTT_URL names (CI's Mosquitto); else, as the demo does, a Mosquitto
    process of the session's own when Mosquitto is installed, and the embedded amqtt broker
    only when it is not. amqtt differs from Mosquitto where these tests look (retained
    messages, redelivery), so a developer's `make test` ran a dozen tests against a broker no
    centre uses, and failed them, on machines that had Mosquitto all along.
    """
    if MQTT_URL:
        yield MQTT_URL
        return
    from kiosk.broker import MosquittoBroker, free_port, mosquitto_binary, wait_for_port

    if mosquitto_binary() is not None:
        own = MosquittoBroker(tmp_path_factory.mktemp("mosquitto")).start()
        yield own.url
        own.stop()
        return
    # In a process of its own, as Mosquitto would be: amqtt leaves a closed connection's
    # streams to the collector, and their ResourceWarnings failed whichever test ran then.
    port = free_port()
    amqtt = subprocess.Popen(
        [sys.executable, "-c", AMQTT_PROCESS, str(port)],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=30)
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        amqtt.terminate()
        amqtt.wait(10)


AMQTT_PROCESS = """
import signal, sys
from kiosk.broker import EmbeddedBroker
EmbeddedBroker(port=int(sys.argv[1])).start()
signal.pause()
"""


@pytest.fixture
def mqtt_site() -> str:
    """A site slug no other test uses, so tests sharing a broker never see each other's topics."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def own_mosquitto(tmp_path: Any) -> Iterator[Any]:
    """A Mosquitto process of this test's own, which the test may stop, crash or restart."""
    from kiosk.broker import MosquittoBroker, mosquitto_binary

    if mosquitto_binary() is None:
        pytest.skip(SKIP_NO_MOSQUITTO)
    broker = MosquittoBroker(tmp_path / "mosquitto").start()
    yield broker
    broker.stop()


# --- staff console ----------------------------------------------------------------------------

STAFF_PASSWORD = "linli-staff-2026"  # the demo centre's "zhao" (booking.demo.centre)
ADMIN_PASSWORD = "linli-admin-2026"  # the demo centre's "admin"


class StaffActions:
    """Sign a test client in and out of the staff console the way a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def csrf_token(self) -> str:
        """A CSRF token for this client's session, read off the sign-in form."""
        import re

        # Signed in, the sign-in page redirects to the overview, whose head has the meta tag.
        page = self._client.get("/staff/sign-in", follow_redirects=True).get_data(as_text=True)
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
        assert match, "no CSRF token on the sign-in page"
        return match.group(1)

    def sign_in(
        self, username: str = "zhao", password: str = STAFF_PASSWORD, next: str = ""
    ) -> Any:
        return self._client.post(
            "/staff/sign-in",
            data={
                "username": username,
                "password": password,
                "next": next,
                "csrf_token": self.csrf_token(),
            },
        )

    def sign_out(self) -> Any:
        return self._client.post("/staff/sign-out", data={"csrf_token": self.csrf_token()})

    def token(self) -> str | None:
        cookie = self._client.get_cookie("linli_staff")
        return cookie.value if cookie else None


@pytest.fixture
def staff_auth(client: FlaskClient) -> StaffActions:
    return StaffActions(client)


# --- CI: no skips for missing services --------------------------------------------------------

# Words that every skip for a missing service has in its reason (see the SKIP_* messages).
SERVICE_SKIP_WORDS = ("postgresql", "mosquitto", "chromium", "playwright", "gettext")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With LINLI_CI_REQUIRE_ALL set (CI sets it), a test skipped for a missing service fails:
    CI provides every service, so such a skip means the suite silently tested less."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not os.environ.get("LINLI_CI_REQUIRE_ALL") or not report.skipped:
        return
    if hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
    if any(word in reason.lower() for word in SERVICE_SKIP_WORDS):
        report.outcome = "failed"
        report.longrepr = f"LINLI_CI_REQUIRE_ALL is set but a service is missing: {reason}"


def pytest_report_header() -> list[str]:
    """The date the suite ran on, so a run under `make test-clock-shifted` shows its shift, and
    the API fuzzing's seed, so a failure it finds in CI runs again the same way."""
    from tests.api.fuzz_settings import MAX_EXAMPLES, SEED

    return [
        f"system clock: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"schemathesis seed: {SEED}, {MAX_EXAMPLES} examples an operation",
    ]
