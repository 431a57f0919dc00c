"""A PostgreSQL schema of its own for one benchmark run, dropped afterwards.

Every bench that runs on PostgreSQL seeds its own tables; a schema of its own keeps them out
of the database's ``public`` schema (where the test suite and other runs would meet them) and
lets two benches run side by side. Six benches had a copy of this each.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError


@contextmanager
def fresh_schema(postgres_url: str, prefix: str = "bench") -> Iterator[str]:
    """``postgres_url`` with its search path set to a new schema (``{prefix}_…``), which is
    dropped with everything in it when the block ends, however it ends."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url)
    try:
        try:
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except OperationalError as error:
            # A bench's traceback from deep in the driver said less than this.
            raise SystemExit(
                f"cannot use PostgreSQL at {admin.url.render_as_string(hide_password=True)}: "
                f"{error.orig}; is it running, and does the database exist? Or set LINLI_TEST_DATABASE_URL"
            ) from None
        sep = "&" if "?" in postgres_url else "?"
        try:
            yield f"{postgres_url}{sep}options={quote(f'-csearch_path={schema}')}"
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
