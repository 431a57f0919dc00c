"""API tokens: an admin makes one in the console and sees it once; a program calls the API
with it, only within its scopes, until it expires or is revoked; every use is audited, and
only its hash is kept."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.people.models.api_tokens import ApiToken
from kiosk.extensions import database
from tests.api.api_centre import Ids, local
from tests.api.test_api_v1 import assert_error
from tests.conftest import ADMIN_PASSWORD, StaffActions
from tests.perf.test_query_counts import statements

TOKENS = "/staff/admin/api-tokens"


def make_token(
    app: Flask, scopes: list[str], name: str = "booking screen", expires_on: str = "2026-12-31"
) -> str:
    """Made by the admin in the console, in a browser of their own; the secret read off the
    one page that shows it."""
    admin = app.test_client()
    StaffActions(admin).sign_in("admin", ADMIN_PASSWORD)
    response = admin.post(TOKENS, data={
        "name": name, "scopes": scopes, "expires_on": expires_on,
        "csrf_token": StaffActions(admin).csrf_token(),
    })  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    found = re.search(r'<code id="new-token">([^<]+)</code>', response.get_data(as_text=True))
    assert found is not None
    return found[1]


def call(client: FlaskClient, method: str, url: str, token: str, **kwargs: Any) -> Any:
    return getattr(client, method)(url, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def seats_url(ids: Ids) -> str:
    return f"/api/v1/spaces/{ids.study}/seats?starts_at={local(10)}&ends_at={local(11)}".replace(
        "+", "%2B"
    )


@pytest.fixture
def ids_anonymous(app: Flask, ids: Ids, client: FlaskClient) -> Ids:
    """The demo's ids, and a client with no staff cookie: a program's."""
    client.delete_cookie("linli_staff")
    return ids


def test_a_token_is_shown_once_and_only_its_hash_is_kept(app: Flask, demo: None) -> None:
    secret = make_token(app, ["availability:read"])
    assert secret.startswith("linli_") and len(secret) > 40
    admin = app.test_client()
    StaffActions(admin).sign_in("admin", ADMIN_PASSWORD)
    page = admin.get(TOKENS).get_data(as_text=True)
    assert secret not in page and secret[:12] in page and "booking screen" in page
    with app.app_context(), database().read() as session:
        [token] = session.scalars(select(ApiToken)).all()
        assert secret not in repr([getattr(token, c.key) for c in ApiToken.__table__.columns])


def test_only_admins_make_tokens(client: FlaskClient, staff_auth: StaffActions, demo: None) -> None:
    staff_auth.sign_in()
    assert client.get(TOKENS).status_code == 403


def test_a_token_does_what_its_scopes_allow_and_nothing_else(
    app: Flask, client: FlaskClient, ids_anonymous: Ids
) -> None:
    ids = ids_anonymous
    token = make_token(app, ["availability:read"])
    assert call(client, "get", seats_url(ids), token).status_code == 200
    refused = assert_error(call(client, "get", "/api/v1/residents", token), 403,
                           "insufficient_scope")  # fmt: skip
    assert refused["details"] == {"scope": "residents:read"}
    assert_error(call(client, "get", "/api/v1/bookings?resident_id=1", token), 403,
                 "insufficient_scope")  # fmt: skip
    # The console's own calls are for people signed in, never for tokens.
    assert_error(call(client, "get", "/api/v1/staff/me", token), 401, "invalid_token")


def test_a_token_that_may_book_books_without_a_csrf_token_and_is_audited(
    app: Flask, client: FlaskClient, ids_anonymous: Ids
) -> None:
    ids = ids_anonymous
    token = make_token(app, ["bookings:write"], name="front desk tablet")
    body = {"resident_id": ids.wang, "seat_id": ids.seat1, "starts_at": local(10),
            "ends_at": local(11)}  # fmt: skip
    response = call(client, "post", "/api/v1/bookings", token, json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context(), database().read() as session:
        [token_id] = session.scalars(select(ApiToken.id)).all()
        entries = [
            (e.action, e.actor, e.subject)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.actor == f"api_token:{token_id}"
        ]
    assert entries == [
        ("api_token.used", f"api_token:{token_id}", "POST /api/v1/bookings"),
        ("booking.create", f"api_token:{token_id}", f"booking:{response.json['id']}"),
    ]


def test_every_call_is_audited_and_the_last_use_shown_to_the_minute(
    app: Flask, client: FlaskClient, ids_anonymous: Ids, clock: FrozenClock
) -> None:
    token = make_token(app, ["availability:read"])

    def last_used_and_uses() -> tuple[object, int]:
        with app.app_context(), database().read() as session:
            stored = session.scalars(select(ApiToken)).one()
            uses = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "api_token.used")
            ).all()
            return stored.last_used_at, len(uses)

    assert last_used_and_uses() == (None, 0)
    first = clock.now()
    assert call(client, "get", seats_url(ids_anonymous), token).status_code == 200
    assert last_used_and_uses() == (first, 1)
    clock.advance(timedelta(seconds=59))
    assert call(client, "get", seats_url(ids_anonymous), token).status_code == 200
    # Audited, though the last use is still the one a minute ago, as the console shows it.
    assert last_used_and_uses() == (first, 2)
    clock.advance(timedelta(seconds=1))
    assert call(client, "get", seats_url(ids_anonymous), token).status_code == 200
    assert last_used_and_uses() == (clock.now(), 3)


def test_a_tokens_call_within_the_minute_writes_only_its_audit_entry(
    app: Flask, client: FlaskClient, ids_anonymous: Ids, clock: FrozenClock
) -> None:
    token = make_token(app, ["availability:read"])
    assert call(client, "get", seats_url(ids_anonymous), token).status_code == 200
    clock.advance(timedelta(seconds=5))
    sent = statements(app, lambda: call(client, "get", seats_url(ids_anonymous), token))
    writes = [s for s in sent if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert len(writes) == 1 and writes[0].startswith("INSERT INTO audit_log"), sent
    assert len([s for s in sent if "FROM api_tokens" in s]) == 1, sent


def test_a_token_stops_working_when_it_expires(
    app: Flask, client: FlaskClient, ids_anonymous: Ids, clock: FrozenClock
) -> None:
    ids = ids_anonymous
    token = make_token(app, ["availability:read"], expires_on="2026-11-25")
    clock.advance(timedelta(days=1, hours=14, minutes=29))  # 23:59 on the 25th in Shanghai
    assert call(client, "get", seats_url(ids), token).status_code == 200
    clock.advance(timedelta(minutes=1))
    assert_error(call(client, "get", seats_url(ids), token), 401, "invalid_token")


def test_a_revoked_token_is_refused_at_once_and_the_revocation_audited(
    app: Flask, client: FlaskClient, ids_anonymous: Ids
) -> None:
    ids = ids_anonymous
    token = make_token(app, ["availability:read"])
    assert call(client, "get", seats_url(ids), token).status_code == 200
    admin = app.test_client()
    StaffActions(admin).sign_in("admin", ADMIN_PASSWORD)
    with app.app_context(), database().read() as session:
        [token_id] = session.scalars(select(ApiToken.id)).all()
    revoked = admin.post(f"{TOKENS}/{token_id}/revoke",
                         data={"csrf_token": StaffActions(admin).csrf_token()})  # fmt: skip
    assert revoked.status_code == 303
    assert_error(call(client, "get", seats_url(ids), token), 401, "invalid_token")
    with app.app_context(), database().read() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    # The refused call after the revocation is not a use: nothing was done with the token.
    assert actions[-2:] == ["api_token.used", "api_token.revoked"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer linli_not-a-token", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer " + "x" * 5000],
    ids=["unknown", "empty", "another scheme", "very long"],
)
def test_a_missing_or_bad_token_gets_401_never_csrf_failed(
    client: FlaskClient, ids_anonymous: Ids, authorization: str
) -> None:
    for method, url in (("get", "/api/v1/residents"), ("post", "/api/v1/bookings")):
        response = getattr(client, method)(url, headers={"Authorization": authorization})
        assert_error(response, 401, "invalid_token")


FIELD_ERROR = 'id="{}-errors"'
FORM_ERROR = 'class="errors errors-form"'  # a rule of the token as a whole, above the form


@pytest.mark.parametrize(
    ("form", "shown"),
    [
        ({"name": "", "scopes": ["bookings:read"], "expires_on": "2026-12-01"},
         FIELD_ERROR.format("name")),
        ({"name": "x", "scopes": [], "expires_on": "2026-12-01"}, FIELD_ERROR.format("scopes")),
        ({"name": "x", "scopes": ["root"], "expires_on": "2026-12-01"},
         FIELD_ERROR.format("scopes")),
        ({"name": "x", "scopes": ["bookings:read"], "expires_on": "soon"},
         FIELD_ERROR.format("expires_on")),
        ({"name": "x", "scopes": ["bookings:read"], "expires_on": "2026-11-23"}, FORM_ERROR),
        ({"name": "x", "scopes": ["bookings:read"], "expires_on": "2028-01-01"}, FORM_ERROR),
    ],
    ids=["no name", "no scope", "unknown scope", "not a date", "expired", "beyond a year"],
)  # fmt: skip
def test_a_token_form_with_bad_input_makes_nothing_and_says_why(
    app: Flask, demo: None, form: dict[str, Any], shown: str
) -> None:
    admin = app.test_client()
    StaffActions(admin).sign_in("admin", ADMIN_PASSWORD)
    response = admin.post(TOKENS, data={**form, "csrf_token": StaffActions(admin).csrf_token()})
    assert response.status_code == 400
    assert shown in response.get_data(as_text=True)
    with app.app_context(), database().read() as session:
        assert session.scalars(select(ApiToken)).all() == []
