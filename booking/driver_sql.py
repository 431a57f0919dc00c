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
connection, invalidates the pool (``tests/integration/test_database_reconnect.py``). Only
for reads: running one twice changes nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Positional paramstyles (SQLite's qmark): the names in placeholder order; None for
    # named ones (psycopg's pyformat).
    order: tuple[str, ...] | None
    # Values fixed in the statement itself (an enum compared with a column, say).
    fixed: dict[str, Any]
    # The parameters each run must give.
    required: frozenset[str]
    bind_processors: dict[str, _Processor]
    result_processors: tuple[_Processor, ...]


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
        result_types = [column.type for column in self.statement.selected_columns]
        fixed = {name: value for name, value in compiled.params.items() if value is not None}
        return _Compiled(
            sql=compiled.string,
            order=tuple(compiled.positiontup or ()) if compiled.positional else None,
            fixed=fixed,
            required=frozenset(binds) - frozenset(fixed),
            bind_processors={
                name: bind.type.dialect_impl(dialect).bind_processor(dialect)
                for name, bind in binds.items()
            },
            result_processors=tuple(
                column_type.dialect_impl(dialect).result_processor(dialect, None)
                for column_type in result_types
            ),
        )

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row the statement gives for ``params``, as plain tuples of typed values."""
        compiled = self._for(connection.dialect)
        if not compiled.required <= params.keys():
            # SQLAlchemy says which value is missing, in its own error.
            return [tuple(row) for row in connection.execute(self.statement, params)]
        values = {**compiled.fixed, **params}
        for name, process in compiled.bind_processors.items():
            if process is not None:
                values[name] = process(values[name])
        driver_params: Sequence[Any] | Mapping[str, Any] = (
            values if compiled.order is None else [values[name] for name in compiled.order]
        )
        if not connection.in_transaction():
            # As Connection.execute would (it autobegins): our BEGIN hooks run, if any.
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
