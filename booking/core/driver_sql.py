"""Hot read statements compiled once per dialect and run on the DB-API cursor.

A cached Core statement still costs SQLAlchemy's per-execution machinery (execution
context, events, parameter and result set-up): for the API's two small reads per request
that was most of their time (docs/benchmarks.md). A :class:`DriverStatement` is an ordinary
Core ``select()`` (so it is written, typed and reviewed like any other query); it is compiled
once for each dialect it meets, and then each run is the driver's ``execute`` and
``fetchall`` plus the column types' own bind and result processing, so values come back
exactly as ``Connection.execute`` would give them (aware datetimes, enums, bools on SQLite).

Errors keep SQLAlchemy's handling: if the driver raises, the statement is run again through
``Connection.execute``, which raises the usual wrapped error and, for a lost server
connection, invalidates the pool (``tests/integration/test_driver_statements.py`` cuts a
server connection). Only for reads: running one twice changes nothing.

A :class:`DriverInsert` is the same idea for bulk writes (the MQTT bridge's ledger): one
INSERT of fixed columns compiled once per dialect, each row converted by the columns' own
bind processors, then one ``executemany`` through ``Connection.exec_driver_sql``, which keeps
SQLAlchemy's error wrapping and the connection's transaction.

Everything else reaches the database one way: :class:`booking.core.db.Database` and its
``write()`` / ``read()`` units of work. Only these run here, each because its benchmark
showed the ORM path was most of the cost (docs/benchmarks.md, which has the runs):
- the staff-session check and its centre (``booking.people.staff_sites``), ``bench/api_load.py``;
- the API's seat availability (``booking.spaces.availability``), ``bench/api_load.py``;
- the kiosk's site, alone or with its resident's session (``booking.core.sites``,
  ``booking.people.auth_sessions``), ``bench/kiosk_home.py``;
- the bridge's ledger insert (``devices.ingest.ledger``), ``bench/mqtt_ingest.py``;
- an API token's check and the audit entry of its use (``booking.people.api_tokens``),
  ``bench/harness/api_mix_cpu.py``.
A new one needs a benchmark of its own that shows the same.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Select, Table, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from booking.core.db import runs_without_transaction

_Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # The parameters each run gives (the statement's own values are in place already).
    given: frozenset[str]
    # Bind processing of the given parameters that have any (e.g. a datetime to text).
    processors: tuple[tuple[str, _Processor], ...]
    # Positional paramstyles (SQLite's qmark): the parameter list with the statement's own
    # values processed and in place, and where each given one goes. Named ones (psycopg's
    # pyformat): the statement's own values, processed.
    template: tuple[Any, ...] | None
    slots: tuple[tuple[int, str], ...]
    fixed: dict[str, Any]
    result_processors: tuple[_Processor | None, ...]


class DriverStatement:
    """A read-only ``select()`` run on the DB-API cursor of a SQLAlchemy connection."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect)
        if found is None:
            # Compiling twice in a race gives the same answer; no lock needed.
            found = self._compiled[dialect] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.positional and compiled.positiontup is None:
            raise ValueError("a positional statement without its parameter order")
        # Each parameter by the name it has in the SQL (anonymous ones get theirs here).
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        for name, bind in binds.items():
            if bind.expanding or bind.literal_execute:
                # Their SQL changes with each value: nothing to compile once.
                raise ValueError(f"parameter {name!r} is rendered per execution")
        bind_processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in binds.items()
        }

        def processed(name: str, value: Any) -> Any:
            process = bind_processors[name]
            return value if process is None else process(value)

        # Values the statement carries itself (an enum compared with a column, say).
        fixed = {
            name: processed(name, value)
            for name, value in compiled.params.items()
            if value is not None
        }
        given = frozenset(binds) - frozenset(fixed)
        order = compiled.positiontup if compiled.positional else None
        return _Compiled(
            sql=compiled.string,
            given=given,
            processors=tuple(
                (name, process)
                for name, process in bind_processors.items()
                if name in given and process is not None
            ),
            template=None if order is None else tuple(fixed.get(name) for name in order),
            slots=()
            if order is None
            else tuple((index, name) for index, name in enumerate(order) if name in given),
            fixed=fixed,
            result_processors=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            ),
        )

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row the statement gives for ``params``, as plain tuples of typed values."""
        compiled = self._for(connection.dialect)
        if params.keys() != compiled.given:
            # A value missing, extra or overriding the statement's own: SQLAlchemy's path
            # does what it always does (and names a missing one in its error).
            return [tuple(row) for row in connection.execute(self.statement, params)]
        values = dict(params)
        for name, process in compiled.processors:
            values[name] = process(values[name])
        driver_params: Sequence[Any] | Mapping[str, Any]
        if compiled.template is None:
            driver_params = {**compiled.fixed, **values}
        else:
            positional = list(compiled.template)
            for index, name in compiled.slots:
                positional[index] = values[name]
            driver_params = positional
        if not connection.in_transaction() and not runs_without_transaction(connection):
            # As Connection.execute would (it autobegins): our BEGIN hooks run, if any. A read
            # connection's begin emits nothing, and then cost a transaction object, its events
            # and a rollback at close, a tenth of the connection's use (docs/benchmarks.md).
            connection.begin()
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, driver_params)
            fetched = cursor.fetchall()
        except connection.dialect.loaded_dbapi.Error:
            # SQLAlchemy's own path raises its wrapped error and, if the server went away,
            # invalidates the pool: so a failure looks the same as everywhere else.
            return [tuple(row) for row in connection.execute(self.statement, params)]
        finally:
            cursor.close()
        processors = compiled.result_processors
        if not fetched or not any(processors):
            return [tuple(row) for row in fetched]
        # Column by column: map() over a column costs a fraction of a Python step per value.
        columns = [
            column if process is None else list(map(process, column))
            for process, column in zip(processors, zip(*fetched, strict=True), strict=True)
        ]
        return list(zip(*columns, strict=True))


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    # (index in the row, processor) for each given column that has one.
    processors: tuple[tuple[int, _Processor], ...]
    # Positional paramstyles: where each given column and each shared value goes; None for
    # named ones (a dict per row).
    order: tuple[str, ...] | None


class DriverInsert:
    """An INSERT of ``columns`` (and of values every row shares) into ``table``."""

    def __init__(self, table: Table, columns: Sequence[str], shared: Sequence[str] = ()) -> None:
        self.table = table
        self.columns = tuple(columns)
        self.shared = tuple(shared)
        self._compiled: weakref.WeakKeyDictionary[Dialect, _CompiledInsert] = (
            weakref.WeakKeyDictionary()
        )

    def _processor(self, name: str, dialect: Dialect) -> _Processor | None:
        return self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)

    def _for(self, dialect: Dialect) -> _CompiledInsert:
        found = self._compiled.get(dialect)
        if found is None:
            compiled = insert(self.table).compile(
                dialect=dialect, column_keys=[*self.columns, *self.shared]
            )
            processors = tuple(
                (index, process)
                for index, name in enumerate(self.columns)
                if (process := self._processor(name, dialect)) is not None
            )
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            found = self._compiled[dialect] = _CompiledInsert(compiled.string, processors, order)
        return found

    def insert_many(
        self,
        connection: Connection,
        rows: Sequence[Sequence[Any]],
        shared: Mapping[str, Any] | None = None,
    ) -> None:
        """Insert ``rows`` (values in ``columns`` order) in one executemany, each with the
        ``shared`` values (converted once for all rows), in the connection's transaction."""
        if not rows:
            return
        compiled = self._for(connection.dialect)
        given = dict(shared or {})
        if given.keys() != set(self.shared):
            raise ValueError(f"shared values must be exactly {self.shared}, got {sorted(given)}")
        for name, value in given.items():
            process = self._processor(name, connection.dialect)
            given[name] = value if process is None else process(value)
        converted: list[list[Any]] = []
        for row in rows:
            values = list(row)
            for index, process in compiled.processors:
                values[index] = process(values[index])
            converted.append(values)
        parameters: list[Any]
        if compiled.order == (*self.columns, *self.shared):
            # The usual case (columns given in the table's order): no reordering per row.
            tail = tuple(given[name] for name in self.shared)
            parameters = [(*values, *tail) for values in converted]
        elif compiled.order is not None:
            at = {name: i for i, name in enumerate(self.columns)}
            parameters = [
                tuple(values[at[name]] if name in at else given[name] for name in compiled.order)
                for values in converted
            ]
        else:
            parameters = [
                {**dict(zip(self.columns, values, strict=True)), **given} for values in converted
            ]
        connection.exec_driver_sql(compiled.sql, parameters)


class json_rows(FunctionElement[Any]):  # noqa: N801 (a SQL function, named like one)
    """An aggregate: the selected rows as one JSON array of arrays, ``[[a, b, …], …]``
    (no rows: ``[]`` on SQLite, ``None`` on PostgreSQL; in no promised order).

    For hot reads of many small rows on SQLite: its driver gives up the GIL for every row it
    steps through, and under gunicorn's threads each of those is a thread switch
    (docs/benchmarks.md: a 24-row read cost twice the CPU of a one-row read with four
    threads). As one row it is one step. Booleans come back as 0/1 on SQLite.
    """

    type = JSON()
    inherit_cache = True


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"
