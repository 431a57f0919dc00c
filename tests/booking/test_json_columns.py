"""A JSON column's value is written by orjson and means what json.dumps wrote: the same
values back, the same refusals, and no number turned into a null."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, Text, func, insert, select, text

from booking.core import json_columns
from booking.core.db import Database


class Colour(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


VALUES: list[Any] = [
    {"type": "item_present_changed", "compartment": 3, "present": True},
    {"name": "永盛社区", "note": "梯子 ladder", "emoji": "🪜", "quote": 'say "hi"\n'},
    {"state": {"compartments": [{"n": 1, "lock": "locked", "door": "closed"}]}},
    {7: "seven", 2.5: "a float key", True: "a bool key", None: "a null key"},
    {"big": 2**70, "small": -(2**70)},
    {"floats": [0.1, 1e16, 1e-7, -0.0, 123456.789]},
    {"reason": None, "status": "done"},
    {Colour.RED: Colour.RED, "level": Level.HIGH},
    [1, "two", [3.0, None, False]],
    "a bare string",
    42,
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_text_reads_back_as_what_json_dumps_wrote(value: Any) -> None:
    assert json.loads(json_columns.dumps(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_number_that_json_cannot_hold_is_written_as_before_not_as_null(number: float) -> None:
    value = {"systolic": number, "reason": None}
    assert json_columns.dumps(value) == json.dumps(value)
    assert "null" not in json_columns.dumps({"systolic": number})


@dataclass
class Point:
    x: int


@pytest.mark.parametrize(
    "value",
    [
        {"at": datetime(2026, 12, 6, tzinfo=UTC)},
        {"point": Point(1)},
        {"tags": {1, 2}},
        {"price": Decimal("1.5")},
    ],
    ids=["datetime", "dataclass", "set", "decimal"],
)
def test_what_json_dumps_refused_is_still_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        json_columns.dumps(value)


@pytest.fixture
def probe(any_database: Database) -> Iterator[tuple[Database, Table]]:
    table = Table(
        "json_column_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("doc", JSON),
    )
    table.create(any_database.engine)
    yield any_database, table
    table.drop(any_database.engine)


def test_a_json_column_keeps_each_value_on_both_databases(
    probe: tuple[Database, Table],
) -> None:
    database, table = probe
    with database.write() as session:
        for index, value in enumerate(VALUES):
            session.execute(insert(table).values(id=index, doc=value))
    with database.read() as session:
        stored = {row.id: row.doc for row in session.execute(select(table.c.id, table.c.doc))}
    assert stored == {index: json.loads(json.dumps(value)) for index, value in enumerate(VALUES)}


def test_the_database_reads_inside_the_text(probe: tuple[Database, Table]) -> None:
    """The engine writes the compact UTF-8 text (not json.dumps's ``\\u6c38…``), and it is
    JSON to the database too: its own functions read a field."""
    database, table = probe
    with database.write() as session:
        session.execute(insert(table).values(id=1, doc={"name": "永盛社区", "n": 7}))
    with database.read() as session:
        if database.engine.dialect.name == "sqlite":
            name, n = session.execute(
                text(
                    "SELECT json_extract(doc, '$.name'), json_extract(doc, '$.n') FROM json_column_probe"
                )
            ).one()
        else:
            name, n = session.execute(
                text("SELECT doc ->> 'name', (doc ->> 'n')::int FROM json_column_probe")
            ).one()
        raw = session.scalar(select(func.cast(table.c.doc, Text)))
    assert (name, n) == ("永盛社区", 7)
    assert raw is not None and json.loads(raw) == {"name": "永盛社区", "n": 7}
    assert "永盛社区" in raw
