"""The PostgreSQL schemas that ``any_database`` hands on from test to test (tests/conftest.py):
the next test finds one as it would find a new one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from booking.core.db import Base, Database
from booking.core.models.sites import Site
from tests.conftest import POSTGRES_URL, SKIP_NO_POSTGRES, _EmptiedSchemas

pytestmark = pytest.mark.postgres


@pytest.fixture
def schemas() -> Iterator[_EmptiedSchemas]:
    if not POSTGRES_URL:
        pytest.skip(SKIP_NO_POSTGRES)
    schemas = _EmptiedSchemas(POSTGRES_URL)
    yield schemas
    schemas.close()


def add_a_centre(database: Database, slug: str) -> int:
    with database.write() as session:
        site = Site(slug=slug, name_zh=slug, name_en=slug)
        session.add(site)
        session.flush()
        return site.id


def rows_in_every_table(database: Database) -> int:
    with database.engine.connect() as connection:
        return sum(
            int(connection.scalar(text(f'SELECT count(*) FROM "{table.name}"')) or 0)
            for table in Base.metadata.sorted_tables
        )


def test_a_schema_given_back_has_no_rows_and_its_ids_start_again_at_one(
    schemas: _EmptiedSchemas,
) -> None:
    schema = schemas.take()
    database = Database(schemas.url(schema))
    assert [add_a_centre(database, "east"), add_a_centre(database, "west")] == [1, 2]
    database.dispose()
    schemas.give_back(schema)

    assert schemas.take() == schema
    database = Database(schemas.url(schema))
    assert rows_in_every_table(database) == 0
    assert add_a_centre(database, "north") == 1
    database.dispose()


def test_a_schema_whose_rows_are_still_locked_is_set_aside_and_the_next_test_gets_a_new_one(
    schemas: _EmptiedSchemas,
) -> None:
    schema = schemas.take()
    database = Database(schemas.url(schema))
    add_a_centre(database, "east")
    with database.engine.connect() as holder:
        holder.execute(text("SELECT id FROM sites FOR UPDATE"))
        schemas.give_back(schema)  # cannot empty it within its lock timeout
    database.dispose()
    assert schema not in schemas.free
    assert schemas.take() != schema
