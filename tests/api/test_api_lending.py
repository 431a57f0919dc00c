"""The lending API: the catalogue with live availability, a resident's loans and
reservations, and reserving, queueing, cancelling and renewing, each open to tokens of its
own scope only and documented in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.lending import operations as lending
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people import staff as staff_service
from kiosk.extensions import database
from tests.api.api_centre import Ids, local
from tests.api.test_api_tokens import call, make_token
from tests.api.test_api_v1 import assert_error

LENDING_SCOPES = {"tools:read", "lending:read", "lending:write"}


@pytest.fixture
def ids_anonymous(app: Flask, ids: Ids, client: FlaskClient) -> Ids:
    client.delete_cookie("linli_staff")
    return ids


def tool_id(app: Flask, code: str) -> int:
    with app.app_context(), database().read() as session:
        return session.scalars(select(ToolType.id).where(ToolType.code == code)).one()


def lend_at_counter(app: Flask, code: str, resident_id: int, clock: FrozenClock) -> int:
    """Staff hand the resident an item of the tool at the counter; its loan's id."""
    with app.app_context(), database().write() as session:
        item = session.scalars(
            select(Item).join(ToolType).where(ToolType.code == code).order_by(Item.id)
        ).first()
        assert item is not None
        zhao = staff_service.get_staff_by_username(session, "zhao")
        return lending.lend_at_counter(session, staff=zhao, item_id=item.id,
                                       resident_id=resident_id, now=clock.now()).id  # fmt: skip


def test_each_lending_call_needs_its_own_scope(
    app: Flask, client: FlaskClient, ids_anonymous: Ids
) -> None:
    ids = ids_anonymous
    reader = make_token(app, ["tools:read"], name="tool screen")
    assert call(client, "get", "/api/v1/lending/tools", reader).status_code == 200
    refused = assert_error(call(client, "get", f"/api/v1/lending/loans?resident_id={ids.wang}",
                                reader), 403, "insufficient_scope")  # fmt: skip
    assert refused["details"] == {"scope": "lending:read"}
    body = {"resident_id": ids.wang, "tool_type_id": tool_id(app, "ladder")}
    refused = assert_error(call(client, "post", "/api/v1/lending/queue", reader, json=body), 403,
                           "insufficient_scope")  # fmt: skip
    assert refused["details"] == {"scope": "lending:write"}
    writer = make_token(app, ["lending:write"], name="phone app")
    assert_error(call(client, "get", "/api/v1/lending/tools", writer), 403, "insufficient_scope")
    assert_error(call(client, "get", f"/api/v1/lending/reservations?resident_id={ids.wang}",
                      writer), 403, "insufficient_scope")  # fmt: skip


def test_the_catalogue_names_each_tool_with_what_is_free_and_who_waits(
    app: Flask, client: FlaskClient, ids_anonymous: Ids
) -> None:
    token = make_token(app, ["tools:read"])
    items = call(client, "get", "/api/v1/lending/tools", token).json["items"]
    ladder = next(item for item in items if item["code"] == "ladder")
    assert (ladder["name_zh"], ladder["name_en"], ladder["loan_days"]) == (
        "折叠梯", "Folding ladder", 2,
    )  # fmt: skip
    # No locker has connected in this test: nothing can be taken from one now.
    assert ladder["free_now"] == 0 and ladder["waiting"] == 0


def test_a_program_reserves_lists_and_cancels_a_window_for_a_resident(
    app: Flask, client: FlaskClient, ids_anonymous: Ids
) -> None:
    ids = ids_anonymous
    token = make_token(app, ["lending:read", "lending:write"], name="phone app")
    body = {"resident_id": ids.wang, "tool_type_id": tool_id(app, "drill"),
            "starts_at": local(10, days=1), "ends_at": local(12, days=1)}  # fmt: skip
    made = call(client, "post", "/api/v1/lending/reservations", token, json=body)
    assert made.status_code == 201, made.get_data(as_text=True)
    assert (made.json["kind"], made.json["status"]) == ("window", "waiting")
    assert made.json["window_starts_at"] == "2026-11-25T02:00:00+00:00"
    again = call(client, "post", "/api/v1/lending/reservations", token, json=body)
    assert_error(again, 409, "already_reserved")
    listed = call(client, "get", f"/api/v1/lending/reservations?resident_id={ids.wang}", token)
    assert [r["id"] for r in listed.json["items"]] == [made.json["id"]]
    cancelled = call(client, "post", f"/api/v1/lending/reservations/{made.json['id']}/cancel",
                     token)  # fmt: skip
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert call(client, "get", f"/api/v1/lending/reservations?resident_id={ids.wang}",
                token).json["items"] == []  # fmt: skip


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "reason"),
    [
        (local(8), local(9), "past"),
        (local(12, days=1), local(10, days=1), "order"),
        (local(8, days=1), local(21, days=1), "too_long"),
        (local(10, days=20), local(11, days=20), "too_far"),
    ],
)
def test_a_window_refused_says_why(
    app: Flask, client: FlaskClient, ids_anonymous: Ids, starts_at: str, ends_at: str, reason: str
) -> None:
    token = make_token(app, ["lending:write"])
    body = {"resident_id": ids_anonymous.wang, "tool_type_id": tool_id(app, "drill"),
            "starts_at": starts_at, "ends_at": ends_at}  # fmt: skip
    error = assert_error(call(client, "post", "/api/v1/lending/reservations", token, json=body),
                         422, "reservation_window_invalid")  # fmt: skip
    assert error["details"]["reason"] == reason


def test_the_queue_is_refused_while_one_is_free(
    app: Flask, client: FlaskClient, ids_anonymous: Ids
) -> None:
    token = make_token(app, ["lending:write"])
    body = {"resident_id": ids_anonymous.wang, "tool_type_id": tool_id(app, "drill")}
    assert_error(call(client, "post", "/api/v1/lending/queue", token, json=body), 409,
                 "item_free_now")  # fmt: skip


def test_a_program_renews_a_loan_and_the_history_and_audit_name_its_token(
    app: Flask, client: FlaskClient, ids_anonymous: Ids, clock: FrozenClock
) -> None:
    ids = ids_anonymous
    loan_id = lend_at_counter(app, "drill", ids.li, clock)
    token = make_token(app, ["lending:read", "lending:write"])
    before = call(client, "get", f"/api/v1/lending/loans?resident_id={ids.li}", token).json
    [loan] = before["items"]
    assert (loan["id"], loan["renewals"]) == (loan_id, 0)
    renewed = call(client, "post", f"/api/v1/lending/loans/{loan_id}/renew", token)
    assert renewed.status_code == 200, renewed.get_data(as_text=True)
    assert renewed.json["due_at"] == "2026-11-30T01:30:00+00:00"  # three days, twice
    assert_error(call(client, "post", f"/api/v1/lending/loans/{loan_id}/renew", token), 409,
                 "renewal_limit_reached")  # fmt: skip
    with app.app_context(), database().read() as session:
        actor = session.scalars(
            select(LendingEvent.actor).where(LendingEvent.action == LendingAction.RENEWED)
        ).one()
        actions = [e.action for e in session.scalars(select(AuditEntry)) if e.actor == actor]
    assert actor.startswith("api_token:")
    assert "lending.renew" in actions


def test_nothing_of_another_resident_or_loan_is_found(
    app: Flask, client: FlaskClient, ids_anonymous: Ids
) -> None:
    token = make_token(app, ["lending:read", "lending:write"])
    assert_error(call(client, "get", "/api/v1/lending/loans?resident_id=999999", token), 404,
                 "not_found")  # fmt: skip
    assert_error(call(client, "post", "/api/v1/lending/loans/999999/renew", token), 404,
                 "loan_not_found")  # fmt: skip
    assert_error(call(client, "post", "/api/v1/lending/reservations/999999/cancel", token), 404,
                 "reservation_not_found")  # fmt: skip


def test_every_lending_route_is_documented_with_its_scope(client: FlaskClient) -> None:
    spec: dict[str, Any] = client.get("/api/openapi.json").json  # type: ignore[assignment]
    scopes = {
        (path, method): operation["x-token-scope"]
        for path, operations in spec["paths"].items()
        if path.startswith("/api/v1/lending/")
        for method, operation in operations.items()
        if method != "parameters"
    }
    assert scopes == {
        ("/api/v1/lending/tools", "get"): "tools:read",
        ("/api/v1/lending/loans", "get"): "lending:read",
        ("/api/v1/lending/reservations", "get"): "lending:read",
        ("/api/v1/lending/reservations", "post"): "lending:write",
        ("/api/v1/lending/queue", "post"): "lending:write",
        ("/api/v1/lending/reservations/{reservation_id}/cancel", "post"): "lending:write",
        ("/api/v1/lending/loans/{loan_id}/renew", "post"): "lending:write",
    }
    assert set(scopes.values()) == LENDING_SCOPES
