"""Setting a space up from the console: rows of seats in one form, and the space's own
booking rules, which the booking services then follow."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.models.audit import AuditEntry
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from booking.spaces.rules import rules_for
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def admin(client: FlaskClient, staff_auth: StaffActions) -> StaffActions:
    staff_auth.sign_in("admin", ADMIN_PASSWORD)
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


def post(client: FlaskClient, staff: StaffActions, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": staff.csrf_token(), **data})


def space_id(app: Flask, code: str) -> int:
    with app.app_context(), database().read() as session:
        return session.scalars(select(Space.id).where(Space.code == code)).one()


def seats(app: Flask, code: str) -> list[tuple[int, int, int]]:
    with app.app_context(), database().read() as session:
        rows = session.execute(
            select(Seat.number, Seat.map_row, Seat.map_col)
            .join(Space)
            .where(Space.code == code)
            .order_by(Seat.number)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def audited(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return found


def test_rows_of_seats_are_added_below_the_seats_already_on_the_map(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    study = space_id(app, "study")
    response = post(
        client, admin, f"/staff/admin/spaces/{study}/seat-rows", first="25", last="31", per_row="3"
    )
    assert response.status_code == 303
    added = [seat for seat in seats(app, "study") if seat[0] >= 25]
    # The demo's 24 seats fill rows 0-3; the new ones start on row 4, three to a row.
    assert added == [
        (25, 4, 0), (26, 4, 1), (27, 4, 2), (28, 5, 0), (29, 5, 1), (30, 5, 2), (31, 6, 0),
    ]  # fmt: skip
    (entry,) = audited(app, "admin.seats_added")
    assert entry.detail == {"first": 25, "last": 31, "per_row": 3}
    with app.app_context(), database().read() as session:
        assert session.get_one(Space, study).capacity == 31


@pytest.mark.parametrize(
    ("first", "last", "per_row", "message"),
    [
        ("20", "30", "6", "That seat number exists already."),
        ("40", "30", "6", "The last seat number must come after the first."),
        ("25", "", "6", "Enter a whole number."),
        ("25", "30", "0", "Enter a whole number from 1 to 50."),
        ("1000", "1001", "6", "Enter a whole number from 1 to 999."),
    ],
)
def test_bad_rows_of_seats_are_refused_and_add_none(
    app: Flask,
    client: FlaskClient,
    admin: StaffActions,
    first: str,
    last: str,
    per_row: str,
    message: str,
) -> None:
    study = space_id(app, "study")
    response = post(
        client, admin, f"/staff/admin/spaces/{study}/seat-rows",
        first=first, last=last, per_row=per_row,
    )  # fmt: skip
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert len(seats(app, "study")) == 24


def test_an_activity_room_has_no_seats_to_add(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    dance = space_id(app, "dance")
    response = post(
        client, admin, f"/staff/admin/spaces/{dance}/seat-rows", first="1", last="4", per_row="2"
    )
    assert response.status_code == 400
    assert "Only study rooms have seats." in response.get_data(as_text=True)


def test_a_spaces_own_booking_rules_are_followed_and_empty_ones_fall_back(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    study = space_id(app, "study")
    page = client.get(f"/staff/admin/spaces/{study}").get_data(as_text=True)
    assert 'placeholder="Default: 240"' in page
    response = post(
        client, admin, f"/staff/admin/spaces/{study}/rules",
        bookable_days="3", max_booking_minutes="180", max_minutes_per_day="",
    )  # fmt: skip
    assert response.status_code == 303
    with app.app_context(), database().read() as session:
        rules = rules_for(session, session.get_one(Space, study))
    assert (rules.bookable_days, rules.max_booking_minutes, rules.max_minutes_per_day) == (
        3, 180, 480,
    )  # fmt: skip
    (entry,) = audited(app, "admin.space_rules_changed")
    assert entry.detail == {"bookable_days": [None, 3], "max_booking_minutes": [None, 180]}
    # Emptied again, the rule follows the default once more.
    post(client, admin, f"/staff/admin/spaces/{study}/rules", bookable_days="3")
    with app.app_context(), database().read() as session:
        assert rules_for(session, session.get_one(Space, study)).max_booking_minutes == 240


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"grid_minutes": "20"}, "The time grid is 15, 30 or 60 minutes."),
        ({"max_booking_minutes": "100"}, "must be a multiple of the 30-minute grid"),
        ({"max_minutes_per_day": "60"}, "The daily limit must allow at least one longest booking."),
        ({"bookable_days": "0"}, "Enter a whole number from 1 to 90."),
        ({"suspension_days": "a week"}, "Enter a whole number."),
    ],
)
def test_bad_booking_rules_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient, admin: StaffActions, data: dict[str, str], message: str
) -> None:
    study = space_id(app, "study")
    response = post(client, admin, f"/staff/admin/spaces/{study}/rules", **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audited(app, "admin.space_rules_changed") == []
