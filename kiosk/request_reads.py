"""One read-only database session per request, shared by the staff sign-in check and the
read-only views that ask for it.

Every transaction costs a pool checkout, a BEGIN and a ROLLBACK; a signed-in API read used
to pay them twice (the session check, then the answer), a fifth of its time
(docs/benchmarks.md). This session is opened on first use (``Database.read_statements``: no
transaction at all, each statement reads what is committed, and it cannot write) and given
back when the request ends. Views that write open their own ``database().write()``.
"""

from __future__ import annotations

from contextlib import ExitStack

from flask import Flask, g
from sqlalchemy.orm import Session

from kiosk.extensions import database

_G_KEY = "linli_request_reads"


def read_session() -> Session:
    """This request's read-only session (opened now if this is the first use)."""
    held: tuple[ExitStack, Session] | None = g.get(_G_KEY)
    if held is None:
        stack = ExitStack()
        session = stack.enter_context(database().read_statements())
        held = (stack, session)
        setattr(g, _G_KEY, held)
    return held[1]


def close(_error: BaseException | None = None) -> None:
    """Roll the request's read session back and return its connection (a teardown hook)."""
    held: tuple[ExitStack, Session] | None = g.pop(_G_KEY, None)
    if held is not None:
        held[0].close()


def init_app(app: Flask) -> None:
    app.teardown_request(close)
