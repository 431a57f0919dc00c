"""The bookings API: availability, a resident's bookings, booking, check-in and cancelling
for a resident, with every rule's refusal as a machine-readable code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.spaces import rooms
from booking.spaces.models.bookings import Booking
from kiosk.extensions import database
from tests.api.api_centre import Ids, local
from tests.api.test_api_v1 import assert_error
from tests.conftest import StaffActions
from tests.resident_rows import resident_of_another_centre


def post(client: FlaskClient, url: str, json: dict[str, Any] | None = None) -> Any:
    token = client.get("/api/v1/staff/csrf-token").json["csrf_token"]
    return client.post(url, json=json, headers={"X-CSRFToken": token})


def book_seat(client: FlaskClient, ids: Ids, start: int = 10, seat: int | None = None) -> Any:
    return post(
        client,
        "/api/v1/bookings",
        {
            "resident_id": ids.wang,
            "seat_id": seat or ids.seat1,
            "starts_at": local(start),
            "ends_at": local(start + 1),
        },
    )


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/spaces/1/seats?starts_at=x&ends_at=y"),
        ("get", "/api/v1/spaces/1/busy?date=2026-11-24"),
        ("get", "/api/v1/bookings?resident_id=1"),
        ("post", "/api/v1/bookings"),
        ("get", "/api/v1/bookings/1"),
        ("post", "/api/v1/bookings/1/check-in"),
        ("post", "/api/v1/bookings/1/cancel"),
    ],
)
def test_booking_routes_answer_401_without_a_staff_session_or_token(
    client: FlaskClient, method: str, url: str
) -> None:
    # Also a POST: without the staff cookie there is no session for CSRF to guard, so the
    # caller learns what it lacks (401), not that a CSRF token was missing.
    response = getattr(client, method)(url)
    assert_error(response, 401, "session_expired")


def test_seat_availability_marks_taken_seats(client: FlaskClient, ids: Ids) -> None:
    assert book_seat(client, ids, start=10).status_code == 201
    body = client.get(
        f"/api/v1/spaces/{ids.study}/seats",
        query_string={"starts_at": local(10, 30), "ends_at": local(12)},
    ).json
    assert body["space_id"] == ids.study
    assert len(body["seats"]) == 24
    assert body["seats"][0] == {
        "id": ids.seat1,
        "number": 1,
        "has_power": True,
        "by_window": True,
        "quiet_zone": False,
        "free": False,
    }
    assert all(seat["free"] for seat in body["seats"][1:])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"starts_at": local(10)}, "ends_at"),
        ({"starts_at": "2026-11-24T10:00:00", "ends_at": local(11)}, "starts_at"),  # no offset
        ({"starts_at": "tomorrow", "ends_at": local(11)}, "starts_at"),
    ],
)
def test_seat_availability_with_bad_times_answers_422_naming_the_field(
    client: FlaskClient, ids: Ids, query: dict[str, str], field: str
) -> None:
    error = assert_error(
        client.get(f"/api/v1/spaces/{ids.study}/seats", query_string=query), 422, "invalid_input"
    )
    assert field in error["details"]["fields"]["query"]


def test_seat_availability_for_a_backwards_period_is_refused(client: FlaskClient, ids: Ids) -> None:
    error = assert_error(
        client.get(
            f"/api/v1/spaces/{ids.study}/seats",
            query_string={"starts_at": local(12), "ends_at": local(10)},
        ),
        422,
        "invalid_input",
    )
    assert error["details"]["field"] == "ends_at"


def test_seat_availability_of_a_room_that_is_not_a_study_room_is_not_found(
    client: FlaskClient, ids: Ids
) -> None:
    assert_error(
        client.get(
            f"/api/v1/spaces/{ids.dance}/seats",
            query_string={"starts_at": local(10), "ends_at": local(11)},
        ),
        404,
        "not_found",
    )


def test_room_busy_lists_bookings_of_the_day_within_opening_hours(
    client: FlaskClient, ids: Ids
) -> None:
    created = post(
        client,
        "/api/v1/bookings",
        {
            "resident_id": ids.li,
            "space_id": ids.meeting,
            "starts_at": local(14),
            "ends_at": local(16),
            "headcount": 6,
            "purpose": "楼道议事",
        },
    )
    assert created.status_code == 201
    body = client.get(f"/api/v1/spaces/{ids.meeting}/busy?date=2026-11-24").json
    assert body == {
        "space_id": ids.meeting,
        "date": "2026-11-24",
        "opens_at": "2026-11-24T00:00:00+00:00",
        "closes_at": "2026-11-24T13:00:00+00:00",
        "busy": [
            {
                "starts_at": "2026-11-24T06:00:00+00:00",
                "ends_at": "2026-11-24T08:00:00+00:00",
                "kind": "booking",
                "status": "pending",
            }
        ],
    }
    other_day = client.get(f"/api/v1/spaces/{ids.meeting}/busy?date=2026-11-25").json
    assert other_day["busy"] == []


@pytest.mark.parametrize("query", ["", "date=24/11/2026", "date=2026-02-30"])
def test_room_busy_needs_a_real_date(client: FlaskClient, ids: Ids, query: str) -> None:
    error = assert_error(
        client.get(f"/api/v1/spaces/{ids.dance}/busy?{query}"), 422, "invalid_input"
    )
    assert "date" in error["details"]["fields"]["query"]


def test_booking_a_seat_answers_201_with_the_booking_and_audits_it(
    app: Flask, client: FlaskClient, ids: Ids
) -> None:
    response = book_seat(client, ids)
    assert response.status_code == 201
    body = response.json
    assert (body["resident_id"], body["seat_id"], body["space_id"]) == (
        ids.wang,
        ids.seat1,
        ids.study,
    )
    assert (body["status"], body["starts_at"]) == ("confirmed", "2026-11-24T02:00:00+00:00")
    assert client.get(f"/api/v1/bookings/{body['id']}").json == body
    with app.app_context(), database().read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "booking.create")
        ).one()
        assert (entry.action, entry.actor, entry.subject) == (
            "booking.create",
            "staff:zhao",
            f"booking:{body['id']}",
        )


def test_booking_a_taken_seat_answers_409_slot_taken_and_changes_nothing(
    app: Flask, client: FlaskClient, ids: Ids
) -> None:
    assert book_seat(client, ids).status_code == 201
    response = post(
        client,
        "/api/v1/bookings",
        {
            "resident_id": ids.li,
            "seat_id": ids.seat1,
            "starts_at": local(10, 30),
            "ends_at": local(11, 30),
        },
    )
    assert_error(response, 409, "slot_taken")
    assert client.get(f"/api/v1/bookings?resident_id={ids.li}").json == {"items": []}
    with app.app_context(), database().read() as session:
        created = select(AuditEntry).where(AuditEntry.action == "booking.create")
        assert len(session.scalars(created).all()) == 1


@pytest.mark.parametrize(
    ("start", "end", "status", "code"),
    [
        (local(10, 15), local(11), 422, "off_grid"),
        (local(7), local(8), 422, "outside_opening_hours"),
        (local(10, days=3), local(11, days=3), 422, "outside_booking_window"),
        (local(10), local(15), 422, "booking_too_long"),
    ],
)
def test_booking_rules_answer_their_own_codes(
    client: FlaskClient, ids: Ids, start: str, end: str, status: int, code: str
) -> None:
    response = post(
        client,
        "/api/v1/bookings",
        {"resident_id": ids.wang, "seat_id": ids.seat1, "starts_at": start, "ends_at": end},
    )
    assert_error(response, status, code)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"seat_id": 1, "starts_at": local(10), "ends_at": local(11)}, "resident_id"),
        ({"resident_id": 1, "starts_at": local(10), "ends_at": local(11)}, "seat_id"),
        (
            {
                "resident_id": 1,
                "seat_id": 1,
                "space_id": 2,
                "starts_at": local(10),
                "ends_at": local(11),
            },
            "seat_id",
        ),
        ({"resident_id": 1, "seat_id": 1, "starts_at": "10:00", "ends_at": local(11)}, "starts_at"),
        (
            {
                "resident_id": 1,
                "space_id": 2,
                "starts_at": local(10),
                "ends_at": local(11),
                "headcount": 0,
            },
            "headcount",
        ),
        (
            {
                "resident_id": 1,
                "seat_id": 1,
                "starts_at": local(10),
                "ends_at": local(11),
                "headcount": 3,
            },
            "headcount",
        ),
        (
            {
                "resident_id": 1,
                "space_id": 2,
                "starts_at": local(10),
                "ends_at": local(11),
                "purpose": "x" * 201,
            },
            "purpose",
        ),
    ],
)
def test_a_bad_booking_body_answers_422_naming_the_field(
    client: FlaskClient, ids: Ids, body: dict[str, Any], field: str
) -> None:
    error = assert_error(post(client, "/api/v1/bookings", body), 422, "invalid_input")
    assert field in error["details"]["fields"]["json"]


def test_booking_for_someone_who_is_not_a_member_is_not_found(
    app: Flask, client: FlaskClient, ids: Ids, clock: FrozenClock
) -> None:
    outsider = resident_of_another_centre(app, clock)
    response = post(
        client,
        "/api/v1/bookings",
        {
            "resident_id": outsider,
            "seat_id": ids.seat1,
            "starts_at": local(10),
            "ends_at": local(11),
        },
    )
    assert_error(response, 404, "not_found")
    assert_error(client.get(f"/api/v1/bookings?resident_id={outsider}"), 404, "not_found")


def test_a_room_that_needs_approval_is_booked_pending(client: FlaskClient, ids: Ids) -> None:
    response = post(
        client,
        "/api/v1/bookings",
        {
            "resident_id": ids.wang,
            "space_id": ids.meeting,
            "starts_at": local(14),
            "ends_at": local(15),
            "headcount": 8,
        },
    )
    assert response.status_code == 201
    assert (response.json["status"], response.json["headcount"]) == ("pending", 8)


def test_a_group_larger_than_the_room_answers_422_over_capacity(
    client: FlaskClient, ids: Ids
) -> None:
    response = post(
        client,
        "/api/v1/bookings",
        {
            "resident_id": ids.wang,
            "space_id": ids.dance,
            "starts_at": local(14),
            "ends_at": local(15),
            "headcount": 21,
        },
    )
    assert_error(response, 422, "over_capacity")


def test_a_residents_bookings_are_listed_in_time_order(client: FlaskClient, ids: Ids) -> None:
    later = book_seat(client, ids, start=15).json["id"]
    sooner = book_seat(client, ids, start=11).json["id"]
    items = client.get(f"/api/v1/bookings?resident_id={ids.wang}").json["items"]
    assert [item["id"] for item in items] == [sooner, later]


@pytest.mark.parametrize("query", ["", "resident_id=0", "resident_id=abc"])
def test_listing_bookings_needs_a_resident_id(client: FlaskClient, ids: Ids, query: str) -> None:
    error = assert_error(client.get(f"/api/v1/bookings?{query}"), 422, "invalid_input")
    assert "resident_id" in error["details"]["fields"]["query"]


def test_an_unknown_booking_is_not_found(client: FlaskClient, ids: Ids) -> None:
    assert_error(client.get("/api/v1/bookings/9999"), 404, "not_found")
    assert_error(post(client, "/api/v1/bookings/9999/check-in"), 404, "not_found")
    assert_error(post(client, "/api/v1/bookings/9999/cancel"), 404, "not_found")


def test_check_in_opens_fifteen_minutes_before_the_start(
    client: FlaskClient, ids: Ids, clock: FrozenClock
) -> None:
    booking_id = book_seat(client, ids, start=10).json["id"]
    assert_error(post(client, f"/api/v1/bookings/{booking_id}/check-in"), 409, "check_in_too_early")
    clock.set(datetime.fromisoformat(local(9, 45)))
    response = post(client, f"/api/v1/bookings/{booking_id}/check-in")
    assert response.status_code == 200
    assert response.json["status"] == "checked_in"
    assert response.json["checked_in_at"] == "2026-11-24T01:45:00+00:00"
    assert_error(
        post(client, f"/api/v1/bookings/{booking_id}/check-in"), 409, "wrong_booking_state"
    )


def test_cancelling_frees_the_seat(client: FlaskClient, ids: Ids) -> None:
    booking_id = book_seat(client, ids, start=10).json["id"]
    response = post(client, f"/api/v1/bookings/{booking_id}/cancel")
    assert (response.status_code, response.json["status"]) == (200, "cancelled")
    assert book_seat(client, ids, start=10).status_code == 201
    assert_error(post(client, f"/api/v1/bookings/{booking_id}/cancel"), 409, "wrong_booking_state")


def test_a_booking_cannot_be_cancelled_after_it_began(
    client: FlaskClient, ids: Ids, clock: FrozenClock, staff_auth: StaffActions
) -> None:
    booking_id = book_seat(client, ids, start=10).json["id"]
    clock.set(datetime.fromisoformat(local(10, 5)))
    staff_auth.sign_in()  # the console session ended after 30 idle minutes
    assert_error(post(client, f"/api/v1/bookings/{booking_id}/cancel"), 409, "cancel_too_late")


def test_a_booking_of_another_centre_is_not_found(
    app: Flask, client: FlaskClient, ids: Ids, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    booking_id = book_seat(client, ids).json["id"]
    with app.app_context(), database().write() as session:
        from booking.people import staff as staff_service
        from booking.people.models.staff import StaffRole

        other = Site(slug="other", name_zh="别的中心", name_en="Other")
        session.add(other)
        session.flush()
        staff_service.create_staff(
            session,
            site_id=other.id,
            username="qian",
            display_name="钱",
            password="qian-pass-2026",
            role=StaffRole.STAFF,
            now=clock.now(),
        )
    staff_auth.sign_out()
    staff_auth.sign_in("qian", "qian-pass-2026")
    assert_error(client.get(f"/api/v1/bookings/{booking_id}"), 404, "not_found")
    assert_error(post(client, f"/api/v1/bookings/{booking_id}/cancel"), 404, "not_found")
    assert_error(
        client.get(
            f"/api/v1/spaces/{ids.study}/seats",
            query_string={"starts_at": local(10), "ends_at": local(11)},
        ),
        404,
        "not_found",
    )


def test_a_pending_room_booking_approved_by_the_domain_reads_confirmed(
    app: Flask, client: FlaskClient, ids: Ids, clock: FrozenClock
) -> None:
    booking_id = post(
        client,
        "/api/v1/bookings",
        {
            "resident_id": ids.wang,
            "space_id": ids.meeting,
            "starts_at": local(14),
            "ends_at": local(15),
            "headcount": 8,
        },
    ).json["id"]
    with app.app_context(), database().write() as session:
        staff_id = session.scalar(
            select(AuditEntry.staff_id).where(AuditEntry.action == "booking.create")
        )
        assert staff_id is not None
        site_id = session.get_one(Booking, booking_id).site_id
        rooms.approve(
            session, staff_id=staff_id, site_id=site_id, booking_id=booking_id, now=clock.now()
        )
    assert client.get(f"/api/v1/bookings/{booking_id}").json["status"] == "confirmed"
