"""JSON bodies no reader can take, and ids that are not whole numbers, sent to every API
route that reads a body: a clear 400 or 422 in the API's envelope, never a 500, and nothing
made. (The API's arguments are read by webargs, which once parsed bodies past the app's input
guard: a body nested thousands deep was a RecursionError, a lone surrogate an encoding error
at the database, and a NUL byte was stored in a booking's purpose.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.lending.models.reservations import ToolReservation
from booking.spaces.models.bookings import Booking
from kiosk.extensions import database
from tests.api.api_centre import Ids, local
from tests.api.test_api_lending import tool_id
from tests.api.test_api_v1 import assert_error


def send(client: FlaskClient, url: str, body: str) -> Any:
    token = client.get("/api/v1/staff/csrf-token").json["csrf_token"]
    return client.post(
        url, data=body.encode("utf-8", "surrogatepass"), content_type="application/json",
        headers={"X-CSRFToken": token},
    )  # fmt: skip


def made(app: Flask) -> tuple[int, int]:
    with app.app_context(), database().read() as session:
        return (
            session.scalar(select(func.count()).select_from(Booking)) or 0,
            session.scalar(select(func.count()).select_from(ToolReservation)) or 0,
        )


def room_booking(ids: Ids, purpose: str) -> str:
    return json.dumps({
        "resident_id": ids.wang, "space_id": ids.meeting, "headcount": 2, "purpose": purpose,
        "starts_at": local(15, days=2), "ends_at": local(16, days=2),
    })  # fmt: skip


BODY_ROUTES = ("/api/v1/bookings", "/api/v1/lending/reservations", "/api/v1/lending/queue")


@pytest.mark.parametrize("url", BODY_ROUTES)
@pytest.mark.parametrize("depth", [40, 3000, 5000])
def test_a_body_nested_too_deep_is_refused_as_unreadable(
    app: Flask, client: FlaskClient, ids: Ids, url: str, depth: int
) -> None:
    before = made(app)
    error = assert_error(send(client, url, "[" * depth + "]" * depth), 400, "unreadable_input")
    assert "nested deeper than 32" in error["message"]
    assert made(app) == before


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('"a\\ud800b"', "a lone surrogate, as JSON escapes it"),
        ('"a\\u0000b"', "a NUL byte, as JSON escapes it"),
    ],
)
def test_a_string_no_database_can_hold_is_refused_and_books_nothing(
    app: Flask, client: FlaskClient, ids: Ids, text: str, why: str
) -> None:
    body = room_booking(ids, "PLACEHOLDER").replace('"PLACEHOLDER"', text)
    before = made(app)
    assert_error(send(client, "/api/v1/bookings", body), 400, "unreadable_input")
    assert made(app) == before, why


def test_the_same_room_booking_with_readable_text_is_made(
    app: Flask, client: FlaskClient, ids: Ids
) -> None:
    # What the two refusals above change is their one string, nothing else.
    before = made(app)
    answer = send(client, "/api/v1/bookings", room_booking(ids, "居民议事会"))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert made(app) == (before[0] + 1, before[1])


def test_bytes_that_are_not_utf8_are_invalid_json(
    app: Flask, client: FlaskClient, ids: Ids
) -> None:
    token = client.get("/api/v1/staff/csrf-token").json["csrf_token"]
    answer = client.post(
        "/api/v1/bookings", data=b'{"purpose": "\xff"}', content_type="application/json",
        headers={"X-CSRFToken": token},
    )  # fmt: skip
    assert_error(answer, 400, "bad_request")


@pytest.mark.parametrize("resident", [1.5, "1", 1.0, True])
def test_a_resident_id_that_is_not_a_json_integer_is_invalid_and_books_nothing(
    app: Flask, client: FlaskClient, ids: Ids, resident: Any
) -> None:
    # 1.5 used to be read as 1: the booking was made for another resident than it named.
    body = json.dumps({
        "resident_id": resident, "seat_id": ids.seat1,
        "starts_at": local(10, days=1), "ends_at": local(11, days=1),
    })  # fmt: skip
    before = made(app)
    error = assert_error(send(client, "/api/v1/bookings", body), 422, "invalid_input")
    assert "resident_id" in error["details"]["fields"]["json"]
    assert made(app) == before


@pytest.mark.parametrize("url", ["/api/v1/lending/reservations", "/api/v1/lending/queue"])
def test_a_tool_type_id_that_is_not_a_json_integer_is_invalid(
    app: Flask, client: FlaskClient, ids: Ids, url: str
) -> None:
    body = {
        "resident_id": ids.wang, "tool_type_id": tool_id(app, "drill") + 0.5,
        "starts_at": local(10, days=1), "ends_at": local(11, days=1),
    }  # fmt: skip
    if url.endswith("queue"):
        body = {"resident_id": ids.wang, "tool_type_id": str(tool_id(app, "drill"))}
    before = made(app)
    error = assert_error(send(client, url, json.dumps(body)), 422, "invalid_input")
    assert "tool_type_id" in error["details"]["fields"]["json"]
    assert made(app) == before
