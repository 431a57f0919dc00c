"""One read-only database connection per request, shared by the staff sign-in check and the
read-only views that ask for it.

Every transaction costs a pool checkout, a BEGIN and a ROLLBACK; a signed-in API read used
to pay them twice (the session check, then the answer), a fifth of its time
(docs/benchmarks.md). This connection is opened on first use (``Database.read_connection``:
no transaction at all, each statement reads what is committed) and given back when the
request ends. The hot reads run on it directly (``booking.core.driver_sql``); an ORM session on
it, which cannot write, is made only when something asks for one: opening and closing a
session cost three times what the connection does (36 µs against 11). Views that write
open their own ``database().write()``.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from flask import Flask, g
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from kiosk.extensions import database

_G_KEY = "linli_request_reads"


@dataclass
class _Reads:
    stack: ExitStack
    connection: Connection
    session: Session | None = None


def _reads() -> _Reads:
    held: _Reads | None = g.get(_G_KEY)
    if held is None:
        stack = ExitStack()
        held = _Reads(stack, stack.enter_context(database().read_connection()))
        setattr(g, _G_KEY, held)
    return held


def read_connection() -> Connection:
    """This request's read-only connection (opened now if this is the first use)."""
    return _reads().connection


def read_session() -> Session:
    """An ORM session on this request's read connection; it refuses to write."""
    held = _reads()
    if held.session is None:
        held.session = held.stack.enter_context(database().statement_session(held.connection))
    return held.session


def close(_error: BaseException | None = None) -> None:
    """Close the request's read session, if any, and return its connection (a teardown hook)."""
    held: _Reads | None = g.pop(_G_KEY, None)
    if held is not None:
        held.stack.close()


def init_app(app: Flask) -> None:
    app.teardown_request(close)
