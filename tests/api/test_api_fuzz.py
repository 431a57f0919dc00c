"""Schemathesis against the whole OpenAPI document, every check on, on SQLite and on
PostgreSQL: generated calls, well-formed and malformed, never get a 5xx, and every answer
matches the document. Settings are pinned (tests/api/fuzz_settings.py); the seed is in the
report header, so a failure seen in CI runs again the same way here.

The calls are made as a program with an API token of every scope, and, for the console's own
calls (``/staff/…``), as a signed-in member of staff with the session cookie and its CSRF
token, each case with a fresh session: one case signing out must not sign out the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from booking.core.clock import FrozenClock
from booking.people import api_tokens, auth_sessions
from booking.people import staff as staff_service
from tests.api.fuzz_settings import MAX_EXAMPLES, SEED
from tests.demo_app import demo_app_on

CONFIG = schemathesis.Config.from_dict({
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES},
    # Every check on. A well-formed call may still break a rule the document cannot state
    # (an end before its start, a seat and a room at once): the API refuses those with 422,
    # its documented answer to a rule, as much an acceptance as a 409.
    "checks": {
        "enabled": True,
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422"],
        },
    },
    "phases": {"coverage": {"enabled": False}},
})  # fmt: skip


@dataclass
class Caller:
    app: Flask | None = None
    token: str = ""


CALLER = Caller()


@schemathesis.auth(refresh_interval=None)
class StaffOrToken:
    """A token for the operations a token may call; else a fresh staff session."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> dict[str, Any]:
        security = case.operation.definition.raw.get("security", [])
        if {"apiToken": []} in security:
            return {"headers": {"Authorization": f"Bearer {CALLER.token}"}}
        assert CALLER.app is not None
        from kiosk.extensions import clock, database

        client = CALLER.app.test_client()
        with CALLER.app.app_context(), database().write() as session:
            admin = staff_service.get_staff_by_username(session, "admin")
            staff_token = auth_sessions.start_staff_session(session, staff=admin, now=clock().now())
        client.set_cookie("linli_staff", staff_token)
        csrf = client.get("/api/v1/staff/csrf-token").json["csrf_token"]
        form_session = client.get_cookie("linli")
        assert form_session is not None
        return {
            "headers": {"X-CSRFToken": csrf},
            "cookies": {"linli_staff": staff_token, "linli": form_session.value},
        }

    def set(self, case: schemathesis.Case, data: dict[str, Any],
            context: schemathesis.AuthContext) -> None:  # fmt: skip
        case.headers = {**(case.headers or {}), **data["headers"]}
        case.cookies = {**(case.cookies or {}), **data.get("cookies", {})}


@pytest.fixture
def fuzzed_app(empty_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    """The demo centre, and a token of every scope for its admin."""
    from kiosk.extensions import database

    for app in demo_app_on(empty_database_url, tmp_path, clock):
        with app.app_context(), database().write() as session:
            admin = staff_service.get_staff_by_username(session, "admin")
            _token, CALLER.token = api_tokens.create_token(
                session, staff=admin, name="schemathesis", scopes=api_tokens.SCOPES,
                expires_at=clock.now() + timedelta(days=30), now=clock.now(),
            )  # fmt: skip
        CALLER.app = app
        yield app
        CALLER.app = None


def _spec_app() -> Flask:
    """An app that only serves the OpenAPI document, for loading it when the module loads."""
    from kiosk import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "spec", "DATABASE_URL": "sqlite://"})


_SPEC_APP = _spec_app()


def _current_app(environ: dict[str, Any], start_response: Any) -> Any:
    """The WSGI app schemathesis calls: the test's own app on its database, once it runs."""
    return (CALLER.app or _SPEC_APP)(environ, start_response)


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", _current_app, config=CONFIG)


@schema.parametrize()
# One app and database per operation, shared by its generated calls, on purpose: a fresh one
# per call would be thousands of databases.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_generated_call_gets_a_server_error_or_an_undocumented_answer(
    fuzzed_app: Flask, case: schemathesis.Case
) -> None:
    case.call_and_validate()
