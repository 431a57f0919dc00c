"""The console's bookings area: the calendar, approvals, series, closures, suspensions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.alerts import notifications
from booking.alerts.models.notifications import NotificationKind
from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount, StaffRole
from booking.spaces import closures, rooms, seats, series
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.closures import Closure
from booking.spaces.models.series import BookingSeries
from booking.spaces.models.spaces import Space, SpaceKind
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension
from kiosk.extensions import database
from tests.conftest import StaffActions

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 24)  # the clock fixture's Tuesday


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    return datetime.combine(TODAY + timedelta(days=days), time(hour, minute), tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Centre:
    site: int
    study: int
    seat1: int
    dance: int
    meeting: int
    wang: int
    li: int
    zhao: int


@pytest.fixture
def centre(app: Flask, demo: None, client: FlaskClient, staff_auth: StaffActions) -> Centre:
    """The demo centre, signed in as zhao, pages in English."""
    assert staff_auth.sign_in().status_code == 302
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    with app.app_context(), database().read() as session:
        spaces = {s.code: s for s in session.scalars(select(Space))}
        people = {r.phone: r.id for r in session.scalars(select(Resident))}
        zhao = session.scalars(select(StaffAccount).where(StaffAccount.username == "zhao")).one()
        return Centre(
            site=zhao.site_id,
            study=spaces["study"].id,
            seat1=spaces["study"].seats[0].id,
            dance=spaces["dance"].id,
            meeting=spaces["meeting"].id,
            wang=people["13800000001"],
            li=people["13800000002"],
            zhao=zhao.id,
        )


def book_room(app: Flask, clock: FrozenClock, c: Centre, space: int, start: int, end: int) -> int:
    with app.app_context(), database().write() as session:
        return rooms.book_room(
            session,
            resident_id=c.wang,
            space_id=space,
            starts_at=at(start),
            ends_at=at(end),
            headcount=6,
            purpose="楼道议事",
            now=clock.now(),
        ).id


def booking(app: Flask, booking_id: int) -> Booking:
    with app.app_context(), database().read() as session:
        found = session.get_one(Booking, booking_id)
        session.expunge(found)
        return found


def audited(app: Flask, action: str) -> list[AuditEntry]:
    with app.app_context(), database().read() as session:
        found = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return found


def post(client: FlaskClient, staff_auth: StaffActions, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": staff_auth.csrf_token(), **data})


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- the area ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/staff/bookings",
        "/staff/bookings/approvals",
        "/staff/bookings/series",
        "/staff/bookings/closures",
        "/staff/bookings/suspensions",
    ],
)
def test_every_bookings_page_needs_a_signed_in_account(client: FlaskClient, url: str) -> None:
    assert client.get(url).location.startswith("/staff/sign-in")


def test_the_bookings_area_is_in_the_console_bar(client: FlaskClient, centre: Centre) -> None:
    assert re.search(
        r'<a href="/staff/bookings" aria-current="page">Room bookings</a>',
        page(client, "/staff/bookings/series"),
    )


# --- calendar ------------------------------------------------------------------------------


def test_the_calendar_shows_a_rooms_bookings_as_blocks_with_masked_name_and_status(
    app: Flask, client: FlaskClient, clock: FrozenClock, centre: Centre
) -> None:
    book_room(app, clock, centre, centre.meeting, 14, 16)
    html = page(client, f"/staff/bookings?space={centre.meeting}&day=2026-11-24")
    block = re.search(r'<div class="block block-pending"[^>]*>(.*?)</div>', html, re.S)
    assert block, html
    assert "14:00–16:00" in block.group(1)
    assert "王*英" in block.group(1) and "王秀英" not in html
    assert "Waiting for approval" in block.group(1)
    assert "Bookings of this room wait for staff approval." in html


def test_the_calendar_shows_series_meetings_and_closures(
    app: Flask, client: FlaskClient, clock: FrozenClock, centre: Centre
) -> None:
    with app.app_context(), database().write() as session:
        series.create_series(
            session,
            staff_id=centre.zhao,
            site_id=centre.site,
            space_id=centre.dance,
            title="太极拳",
            weekday=1,
            start_time=time(10),
            end_time=time(11),
            starts_on=TODAY,
            ends_on=TODAY + timedelta(weeks=4),
            now=clock.now(),
        )
        closures.declare_closure(
            session,
            staff_id=centre.zhao,
            site_id=centre.site,
            space_id=centre.dance,
            starts_at=at(15),
            ends_at=at(17),
            reason="地板打蜡",
            now=clock.now(),
        )
    html = page(client, f"/staff/bookings?space={centre.dance}&day=2026-11-24")
    assert re.search(r'class="block block-confirmed block-series".*?太极拳', html, re.S)
    assert re.search(r'class="block block-closure".*?15:00–17:00.*?地板打蜡', html, re.S)


def test_the_week_view_shows_seven_days_from_monday(client: FlaskClient, centre: Centre) -> None:
    html = page(client, f"/staff/bookings?space={centre.dance}&day=2026-11-26&view=week")
    assert "week of 2026-11-23" in html
    assert html.count('<div class="lane" role="row">') == 7


def test_the_study_room_shows_each_seats_bookings_for_the_day(
    app: Flask, client: FlaskClient, clock: FrozenClock, centre: Centre
) -> None:
    with app.app_context(), database().write() as session:
        seats.book_seat(
            session,
            resident_id=centre.li,
            seat_id=centre.seat1,
            starts_at=at(10),
            ends_at=at(12),
            now=clock.now(),
        )
    html = page(client, f"/staff/bookings?space={centre.study}&day=2026-11-24")
    assert html.count('<div class="lane" role="row">') == 24
    first_seat = html.split("Seat 1\n")[1].split("Seat 2\n")[0]
    assert "10:00–12:00" in first_seat and "李*国" in first_seat


@pytest.mark.parametrize("query", ["day=24.11.2026", "space=99999", "view=month"])
def test_a_bad_calendar_choice_answers_400_with_the_form(
    client: FlaskClient, centre: Centre, query: str
) -> None:
    response = client.get(f"/staff/bookings?{query}")
    assert response.status_code == 400
    assert 'class="errors"' in response.get_data(as_text=True)


# --- approvals -----------------------------------------------------------------------------


def test_pending_bookings_are_listed_for_approval(
    app: Flask, client: FlaskClient, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book_room(app, clock, centre, centre.meeting, 14, 16)
    html = page(client, "/staff/bookings/approvals")
    row = html.split(f'id="booking-{booking_id}"')[1].split("</tr>")[0]
    assert "2026-11-24 14:00–16:00" in row
    assert "王秀英" in row and "楼道议事" in row
    assert "Approvals (1)" in html


def test_approving_confirms_the_booking_tells_the_resident_and_is_audited(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book_room(app, clock, centre, centre.meeting, 14, 16)
    response = post(client, staff_auth, f"/staff/bookings/{booking_id}/approve")
    assert (response.status_code, response.location) == (303, "/staff/bookings/approvals")
    decided = booking(app, booking_id)
    assert (decided.status, decided.decided_by_staff_id) == (BookingStatus.CONFIRMED, centre.zhao)
    with app.app_context(), database().read() as session:
        told = notifications.notifications_of(session, resident_id=centre.wang, site_id=centre.site)
        assert [n.kind for n in told] == [NotificationKind.BOOKING_APPROVED]
    [entry] = audited(app, "booking.approve")
    assert (entry.actor, entry.subject) == ("staff:zhao", f"booking:{booking_id}")
    assert "Nothing is waiting for approval." in page(client, "/staff/bookings/approvals")


def test_approving_without_the_csrf_token_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book_room(app, clock, centre, centre.meeting, 14, 16)
    assert client.post(f"/staff/bookings/{booking_id}/approve").status_code == 400
    assert booking(app, booking_id).status is BookingStatus.PENDING


@pytest.mark.parametrize("reason", ["", "   ", "x" * 301])
def test_refusing_needs_a_reason_and_without_one_changes_nothing(
    app: Flask,
    client: FlaskClient,
    staff_auth: StaffActions,
    clock: FrozenClock,
    centre: Centre,
    reason: str,
) -> None:
    booking_id = book_room(app, clock, centre, centre.meeting, 14, 16)
    response = post(
        client, staff_auth, f"/staff/bookings/{booking_id}/reject",
        **{f"reject-{booking_id}-reason": reason},
    )  # fmt: skip
    assert response.status_code in (400, 422)
    row = response.get_data(as_text=True).split(f'id="booking-{booking_id}"')[1]
    assert 'class="errors"' in row.split("</tr>")[0]
    assert booking(app, booking_id).status is BookingStatus.PENDING
    assert audited(app, "booking.reject") == []


def test_refusing_frees_the_room_and_the_resident_reads_the_reason(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book_room(app, clock, centre, centre.meeting, 14, 16)
    response = post(
        client, staff_auth, f"/staff/bookings/{booking_id}/reject",
        **{f"reject-{booking_id}-reason": "那天有街道会议"},
    )  # fmt: skip
    assert response.status_code == 303
    refused = booking(app, booking_id)
    assert (refused.status, refused.reason) == (BookingStatus.REJECTED, "那天有街道会议")
    with app.app_context(), database().read() as session:
        [told] = notifications.notifications_of(
            session, resident_id=centre.wang, site_id=centre.site
        )
        assert (told.kind, told.detail) == (NotificationKind.BOOKING_REJECTED, "那天有街道会议")
    assert audited(app, "booking.reject")[0].detail["reason"] == "那天有街道会议"
    book_room(app, clock, centre, centre.meeting, 14, 16)  # the slot is free again


def test_deciding_twice_says_the_booking_changed_and_does_nothing(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book_room(app, clock, centre, centre.meeting, 14, 16)
    post(client, staff_auth, f"/staff/bookings/{booking_id}/approve")
    response = post(
        client, staff_auth, f"/staff/bookings/{booking_id}/reject",
        **{f"reject-{booking_id}-reason": "太晚了"},
    )  # fmt: skip
    assert response.status_code == 409
    assert booking(app, booking_id).status is BookingStatus.CONFIRMED


def test_a_booking_of_another_centre_cannot_be_decided(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, centre: Centre
) -> None:
    from booking.people import residents, staff

    with app.app_context(), database().write() as session:
        other = Site(slug="other", name_zh="别的中心", name_en="Other")
        session.add(other)
        session.flush()
        room = Space(
            site_id=other.id, code="m", kind=SpaceKind.ACTIVITY, name_zh="会议室", name_en="Room",
            capacity=10, needs_approval=True,
        )  # fmt: skip
        session.add(room)
        session.flush()
        outsider = residents.register_resident(
            session, site_id=other.id, name="外人", phone="13600000000", pin="275139",
            now=clock.now(),
        )  # fmt: skip
        staff.create_staff(
            session, site_id=other.id, username="qian", display_name="钱",
            password="qian-pass-2026", role=StaffRole.STAFF, now=clock.now(),
        )  # fmt: skip
        theirs = rooms.book_room(
            session, resident_id=outsider.id, space_id=room.id, starts_at=at(14),
            ends_at=at(15), headcount=2, now=clock.now(),
        ).id  # fmt: skip
    assert post(client, staff_auth, f"/staff/bookings/{theirs}/approve").status_code == 404
    assert booking(app, theirs).status is BookingStatus.PENDING
    assert f'id="booking-{theirs}"' not in page(client, "/staff/bookings/approvals")


# --- series --------------------------------------------------------------------------------


def series_form(c: Centre, **changes: Any) -> dict[str, Any]:
    data = {
        "new-space": c.dance,
        "new-title": "太极拳",
        "new-weekday": 3,
        "new-start_time": "09:00",
        "new-end_time": "10:00",
        "new-starts_on": "2026-11-24",
        "new-ends_on": "2026-12-31",
        "new-headcount": 15,
    }
    data.update({f"new-{key}": value for key, value in changes.items()})
    return data


def test_creating_a_series_books_its_meetings_ahead_and_is_audited(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, centre: Centre
) -> None:
    response = post(client, staff_auth, "/staff/bookings/series/new", **series_form(centre))
    assert (response.status_code, response.location) == (303, "/staff/bookings/series")
    html = page(client, "/staff/bookings/series")
    assert "Series created: 4 meetings booked." in html
    assert re.search(r"太极拳</td>\s*<td>Dance room</td>\s*<td>Thursday 09:00–10:00", html)
    with app.app_context(), database().read() as session:
        made = session.scalars(select(BookingSeries.id)).one()
        dates = sorted(
            b.occurs_on for b in session.scalars(select(Booking).where(Booking.series_id == made))
        )
        assert dates == [date(2026, 11, 26) + timedelta(weeks=n) for n in range(4)]
    assert audited(app, "series.create")[0].subject == f"series:{made}"


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"title": ""}, "new-title", 400),
        ({"start_time": "9 o'clock"}, "new-start_time", 400),
        ({"ends_on": "2026-11-01"}, "new-ends_on", 422),
        ({"start_time": "09:15", "end_time": "10:15"}, None, 422),  # off the grid
        ({"headcount": 21}, None, 422),  # more than the dance room holds
        ({"space": 99999}, "new-space", 400),
    ],
)
def test_a_bad_series_shows_what_is_wrong_and_creates_nothing(
    app: Flask,
    client: FlaskClient,
    staff_auth: StaffActions,
    centre: Centre,
    changes: dict[str, Any],
    field: str | None,
    status: int,
) -> None:
    response = post(
        client, staff_auth, "/staff/bookings/series/new", **series_form(centre, **changes)
    )
    assert response.status_code == status
    html = response.get_data(as_text=True)
    if field:
        assert f'id="{field}-errors"' in html
    else:
        assert 'class="errors errors-form"' in html
    with app.app_context(), database().read() as session:
        assert session.scalars(select(BookingSeries)).all() == []


def make_series(app: Flask, client: FlaskClient, staff_auth: StaffActions, c: Centre) -> int:
    post(client, staff_auth, "/staff/bookings/series/new", **series_form(c))
    with app.app_context(), database().read() as session:
        return session.scalars(select(BookingSeries.id)).one()


def meeting_statuses(app: Flask, series_id: int) -> dict[date, BookingStatus]:
    with app.app_context(), database().read() as session:
        found = session.scalars(select(Booking).where(Booking.series_id == series_id))
        return {b.occurs_on: b.status for b in found if b.occurs_on}


def test_skipping_a_date_cancels_that_meeting(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, centre: Centre
) -> None:
    series_id = make_series(app, client, staff_auth, centre)
    response = post(
        client, staff_auth, f"/staff/bookings/series/{series_id}/exceptions",
        **{f"skip-{series_id}-on_date": "2026-12-03"},
    )  # fmt: skip
    assert response.status_code == 303
    assert meeting_statuses(app, series_id)[date(2026, 12, 3)] is BookingStatus.CANCELLED
    assert (
        "2026-12-03" in page(client, "/staff/bookings/series").split(f'id="series-{series_id}"')[1]
    )
    assert audited(app, "series.exception")[0].detail == {"on_date": "2026-12-03"}


def test_skipping_a_date_that_is_not_a_meeting_is_refused(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, centre: Centre
) -> None:
    series_id = make_series(app, client, staff_auth, centre)
    response = post(
        client, staff_auth, f"/staff/bookings/series/{series_id}/exceptions",
        **{f"skip-{series_id}-on_date": "2026-12-02"},  # a Wednesday
    )  # fmt: skip
    assert response.status_code == 422
    assert f'id="skip-{series_id}-on_date-errors"' in response.get_data(as_text=True)
    assert audited(app, "series.exception") == []


def test_ending_a_series_cancels_its_later_meetings(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, centre: Centre
) -> None:
    series_id = make_series(app, client, staff_auth, centre)
    response = post(
        client, staff_auth, f"/staff/bookings/series/{series_id}/end",
        **{f"end-{series_id}-last_date": "2026-12-03"},
    )  # fmt: skip
    assert response.status_code == 303
    statuses = meeting_statuses(app, series_id)
    assert statuses[date(2026, 12, 3)] is BookingStatus.CONFIRMED
    assert statuses[date(2026, 12, 10)] is BookingStatus.CANCELLED
    assert "2026-11-24 – 2026-12-03" in page(client, "/staff/bookings/series")
    assert audited(app, "series.end")[0].subject == f"series:{series_id}"


# --- closures ------------------------------------------------------------------------------


def closure_form(place: int, **changes: str) -> dict[str, Any]:
    data = {
        "space": str(place),
        "starts_at": "2026-11-24T13:00",
        "ends_at": "2026-11-24T18:00",
        "reason": "停电检修",
    }
    data.update(changes)
    return data


def test_declaring_a_closure_cancels_the_bookings_in_it_and_lists_it(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, centre: Centre
) -> None:
    booking_id = book_room(app, clock, centre, centre.dance, 14, 16)
    response = post(client, staff_auth, "/staff/bookings/closures", **closure_form(0))
    assert (response.status_code, response.location) == (303, "/staff/bookings/closures")
    cancelled = booking(app, booking_id)
    assert (cancelled.status, cancelled.reason) == (BookingStatus.CANCELLED, "停电检修")
    html = page(client, "/staff/bookings/closures")
    assert re.search(
        r"The whole centre</td>\s*<td>2026-11-24 13:00</td>\s*<td>2026-11-24 18:00</td>\s*<td>停电检修",
        html,
    )
    with app.app_context(), database().read() as session:
        closure = session.scalars(select(Closure)).one()
        assert (closure.space_id, closure.starts_at) == (None, at(13))
        closure_id = closure.id
    assert audited(app, "closure.declare")[0].subject == f"closure:{closure_id}"


def test_a_closure_of_one_room_leaves_the_others_booked(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, centre: Centre
) -> None:
    dance = book_room(app, clock, centre, centre.dance, 14, 16)
    meeting = book_room(app, clock, centre, centre.meeting, 14, 16)
    post(client, staff_auth, "/staff/bookings/closures", **closure_form(centre.dance))
    assert booking(app, dance).status is BookingStatus.CANCELLED
    assert booking(app, meeting).status is BookingStatus.PENDING


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"reason": ""}, "reason", 400),
        ({"ends_at": ""}, "ends_at", 400),
        ({"ends_at": "2026-11-24T12:00"}, "ends_at", 422),  # before the start
        ({"starts_at": "2026-11-23T08:00", "ends_at": "2026-11-23T09:00"}, "ends_at", 422),  # over
        ({"space": "99999"}, "space", 400),
    ],
)
def test_a_bad_closure_shows_what_is_wrong_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    staff_auth: StaffActions,
    clock: FrozenClock,
    centre: Centre,
    changes: dict[str, str],
    field: str,
    status: int,
) -> None:
    booking_id = book_room(app, clock, centre, centre.dance, 14, 16)
    response = post(client, staff_auth, "/staff/bookings/closures", **closure_form(0, **changes))
    assert response.status_code == status
    assert f'id="{field}-errors"' in response.get_data(as_text=True)
    assert booking(app, booking_id).status is BookingStatus.CONFIRMED
    with app.app_context(), database().read() as session:
        assert session.scalars(select(Closure)).all() == []


# --- no-shows and suspensions --------------------------------------------------------------


def suspend(app: Flask, clock: FrozenClock, c: Centre) -> int:
    """A no-show strike of 王秀英 yesterday that led to a suspension for 7 days."""
    with app.app_context(), database().write() as session:
        missed = Booking(
            site_id=c.site, space_id=c.study, seat_id=c.seat1, resident_id=c.wang,
            status=BookingStatus.NO_SHOW, starts_at=at(10, days=-1), ends_at=at(11, days=-1),
            created_at=clock.now(),
        )  # fmt: skip
        session.add(missed)
        session.flush()
        row = BookingSuspension(
            site_id=c.site, resident_id=c.wang, starts_at=at(10, 15, days=-1),
            ends_at=at(10, 15, days=6),
        )  # fmt: skip
        session.add(row)
        session.flush()
        session.add(
            NoShowStrike(
                site_id=c.site, resident_id=c.wang, booking_id=missed.id,
                given_at=at(10, 15, days=-1), suspension_id=row.id,
            )
        )  # fmt: skip
        return row.id


def test_suspensions_in_force_and_recent_no_shows_are_listed(
    app: Flask, client: FlaskClient, clock: FrozenClock, centre: Centre
) -> None:
    suspension_id = suspend(app, clock, centre)
    html = page(client, "/staff/bookings/suspensions")
    row = html.split(f'id="suspension-{suspension_id}"')[1].split("</tr>")[0]
    assert "王秀英" in row and "2026-11-30 10:15" in row
    strikes_table = html.split("No-shows in the last 30 days")[1]
    assert re.search(r"王秀英</a></td>\s*<td>2026-11-23 10:00–11:00</td>", strikes_table)


def test_lifting_a_suspension_needs_a_reason(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, centre: Centre
) -> None:
    suspension_id = suspend(app, clock, centre)
    response = post(client, staff_auth, f"/staff/bookings/suspensions/{suspension_id}/lift")
    assert response.status_code == 400
    assert f'id="lift-{suspension_id}-reason-errors"' in response.get_data(as_text=True)
    with app.app_context(), database().read() as session:
        assert session.get_one(BookingSuspension, suspension_id).lifted_at is None


def test_lifting_a_suspension_lets_the_resident_book_again_and_is_audited(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock, centre: Centre
) -> None:
    suspension_id = suspend(app, clock, centre)
    response = post(
        client, staff_auth, f"/staff/bookings/suspensions/{suspension_id}/lift",
        **{f"lift-{suspension_id}-reason": "自助机当天故障"},
    )  # fmt: skip
    assert response.status_code == 303
    with app.app_context(), database().write() as session:
        lifted = session.get_one(BookingSuspension, suspension_id)
        assert (lifted.lifted_by_staff_id, lifted.lift_reason) == (centre.zhao, "自助机当天故障")
        seats.book_seat(
            session, resident_id=centre.wang, seat_id=centre.seat1, starts_at=at(12),
            ends_at=at(13), now=clock.now(),
        )  # fmt: skip
    [entry] = audited(app, "booking.suspension_lifted")
    assert entry.detail == {"suspension_id": suspension_id, "reason": "自助机当天故障"}
    assert "Nobody is suspended." in page(client, "/staff/bookings/suspensions")
    again = post(
        client, staff_auth, f"/staff/bookings/suspensions/{suspension_id}/lift",
        **{f"lift-{suspension_id}-reason": "again"},
    )  # fmt: skip
    assert again.status_code == 409
