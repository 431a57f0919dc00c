"""Reserving a tool from the phone, on SQLite and on PostgreSQL: a resident reserves the
station's ladder for tomorrow morning and cancels it, queues for it while it is out, is told
in Chinese why anything is refused (which changes nothing), and cannot reach another
centre's tools or reservations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from booking.core.clock import FrozenClock
from booking.core.db import Base
from booking.lending import reservations as reservation_service
from booking.lending.loans import start_loan
from booking.lending.models.loans import Loan, LoanChannel
from booking.lending.models.reservations import (
    ReservationKind,
    ReservationStatus,
)
from booking.lending.models.tools import Item
from kiosk.extensions import database
from tests.lending.lending_centre import Station, build_station, report_locker, reservations_of
from tests.mobile.conftest import PhoneActions, alert_of

TOMORROW = "2026-11-25"  # the clock's Tuesday 24 November, plus one
PIN = "275139"  # every station resident's


@pytest.fixture
def stations(empty_database_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Flask]:
    """The phone page of a lending station whose locker is up, and a second centre beside it."""
    from kiosk import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "CLOCK": clock,
                      "DATABASE_URL": empty_database_url})  # fmt: skip
    app.instance_path = str(tmp_path)
    with app.app_context():
        Base.metadata.create_all(database().engine)
        here = build_station(database(), clock, slug="here")
        app.extensions["there"] = build_station(database(), clock, slug="there")
        report_locker(database(), here, clock)
    app.config["SITE"] = here.slug
    app.extensions["here"] = here
    yield app
    with app.app_context():
        database().dispose()


def here(app: Flask) -> Station:
    station: Station = app.extensions["here"]
    return station


def there(app: Flask) -> Station:
    station: Station = app.extensions["there"]
    return station


def signed_in(app: Flask, n: int = 0) -> PhoneActions:
    phone = PhoneActions(app.test_client())
    assert phone.sign_in(here(app).phones[n], PIN).status_code == 302
    return phone


def lend_the_ladder(app: Flask, clock: FrozenClock, n: int = 1) -> None:
    with app.app_context(), database().write() as session:
        ladder = session.get_one(Item, here(app).ladder)
        start_loan(session, item=ladder, resident_id=here(app).residents[n],
                   channel=LoanChannel.COUNTER, now=clock.now(), loan_days=2)  # fmt: skip


def test_a_resident_reserves_the_ladder_for_tomorrow_morning_and_cancels_it(
    stations: Flask,
) -> None:
    phone = signed_in(stations)
    ladder = here(stations).ladder_type
    tools = phone.page("/m/tools/reserve")
    # Only tools kept in lockers are reserved ahead: the counter's cart is not offered.
    assert "折叠梯" in tools and "电钻" in tools and "拖车" not in tools
    assert f'href="/m/tools/{ladder}/reserve"' in tools
    form = phone.page(f"/m/tools/{ladder}/reserve")
    assert "哪一天？" in form and "上午 9:00 至 12:00" in form
    assert 'value="2026-11-24"' not in form  # today's windows may have begun: from tomorrow
    made = phone.post(f"/m/tools/{ladder}/reserve", day=TOMORROW, window="morning")
    assert made.status_code == 302 and made.headers["Location"].endswith("/m/tools")
    [reserved] = reservations_of(stations)
    assert (reserved.kind, reserved.status) == (ReservationKind.WINDOW, ReservationStatus.WAITING)
    assert reserved.window_starts_at is not None
    assert reserved.window_starts_at.isoformat() == "2026-11-25T01:00:00+00:00"  # 09:00 Shanghai
    mine = phone.page("/m/tools")
    assert (
        "预约成功" in mine and f'id="reservation-{reserved.id}"' in mine and "已预约：11-25" in mine
    )
    cancelled = phone.post(f"/m/tools/reservations/{reserved.id}/cancel")
    assert cancelled.status_code == 302
    assert reservations_of(stations)[0].status is ReservationStatus.CANCELLED
    after = phone.page("/m/tools")
    assert "已取消" in after and f'id="reservation-{reserved.id}"' not in after


def test_with_the_ladder_out_a_resident_queues_and_sees_their_place(
    stations: Flask, clock: FrozenClock
) -> None:
    lend_the_ladder(stations, clock)
    phone = signed_in(stations)
    ladder = here(stations).ladder_type
    tools = phone.page("/m/tools/reserve")
    assert f'action="/m/tools/{ladder}/queue"' in tools and "排队等下一件" in tools
    # The drills are free: no queue for them, only reserving ahead.
    assert f'action="/m/tools/{here(stations).drill_type}/queue"' not in tools
    assert phone.post(f"/m/tools/{ladder}/queue").status_code == 302
    [place] = reservations_of(stations)
    assert (place.kind, place.resident_id) == (ReservationKind.QUEUE, here(stations).residents[0])
    mine = phone.page("/m/tools")
    assert "您已排在第1位" in mine and "排队中：您排在第1位。" in mine


def test_a_free_tool_is_borrowed_at_the_centre_not_queued_for(stations: Flask) -> None:
    phone = signed_in(stations)
    refused = phone.post(f"/m/tools/{here(stations).ladder_type}/queue")
    assert refused.status_code == 409
    assert "现在就有空闲的" in alert_of(refused.get_data(as_text=True))
    assert reservations_of(stations) == []


def test_a_second_reservation_of_the_same_tool_is_refused_and_the_first_stays(
    stations: Flask,
) -> None:
    phone = signed_in(stations)
    ladder = here(stations).ladder_type
    phone.post(f"/m/tools/{ladder}/reserve", day=TOMORROW, window="morning")
    again = phone.post(f"/m/tools/{ladder}/reserve", day="2026-11-26", window="evening")
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert "您已经预约或排队等候这件工具了" in alert_of(page)
    # The choices stay chosen, to change rather than start again.
    assert 'value="2026-11-26" checked' in page and 'value="evening" checked' in page
    assert len(reservations_of(stations)) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"day": TOMORROW, "window": "midnight"},
        {"day": "2026-11-24", "window": "morning"},  # today: not offered
        {"day": "2027-01-01", "window": "morning"},  # past the days shown
        {"day": "0001-01-01", "window": "morning"},
        {"day": "not a day", "window": "morning"},
        {"day": "字" * 300, "window": "字" * 300},
        {},
    ],
)
def test_a_day_or_time_not_offered_is_refused_in_chinese_and_reserves_nothing(
    stations: Flask, fields: dict[str, str]
) -> None:
    phone = signed_in(stations)
    refused = phone.post(f"/m/tools/{here(stations).ladder_type}/reserve", **fields)
    assert refused.status_code == 422
    assert alert_of(refused.get_data(as_text=True)) == "请从列表中选择日期和时间。"
    assert reservations_of(stations) == []


def test_a_nul_byte_is_refused_before_anything_and_reserves_nothing(stations: Flask) -> None:
    phone = signed_in(stations)
    ladder = here(stations).ladder_type
    refused = phone.post(f"/m/tools/{ladder}/reserve", day=TOMORROW + "\x00", window="morning")
    assert refused.status_code == 400
    assert reservations_of(stations) == []


def test_another_centres_tools_and_reservations_are_not_found_and_stay_as_they_were(
    stations: Flask, clock: FrozenClock
) -> None:
    theirs = there(stations)
    with stations.app_context(), database().write() as session:
        kept = reservation_service.reserve(
            session, site_id=theirs.site_id, resident_id=theirs.residents[0],
            tool_type_id=theirs.ladder_type, starts_at=clock.now().replace(day=25, hour=1),
            ends_at=clock.now().replace(day=25, hour=4), now=clock.now(),
        ).id  # fmt: skip
    phone = signed_in(stations)
    assert phone.client.get(f"/m/tools/{theirs.ladder_type}/reserve").status_code == 404
    reserve = phone.post(f"/m/tools/{theirs.ladder_type}/reserve", day=TOMORROW, window="morning")
    assert reserve.status_code == 404
    assert phone.post(f"/m/tools/{theirs.ladder_type}/queue").status_code == 404
    cancel = phone.post(f"/m/tools/reservations/{kept}/cancel")
    assert cancel.status_code == 404
    assert "没有找到这个预约" in alert_of(cancel.get_data(as_text=True))
    [theirs_still] = reservations_of(stations)
    assert theirs_still.status is ReservationStatus.WAITING


def test_a_neighbours_reservation_is_not_theirs_to_cancel(stations: Flask) -> None:
    neighbour = signed_in(stations, 1)
    neighbour.post(f"/m/tools/{here(stations).ladder_type}/reserve", day=TOMORROW, window="morning")
    [made] = reservations_of(stations)
    phone = signed_in(stations)
    assert f'id="reservation-{made.id}"' not in phone.page("/m/tools")
    assert phone.post(f"/m/tools/reservations/{made.id}/cancel").status_code == 404
    assert reservations_of(stations)[0].status is ReservationStatus.WAITING


@pytest.mark.parametrize("path", ["/m/tools/reserve", "/m/tools/1/reserve"])
def test_reserving_asks_to_sign_in_first(stations: Flask, path: str) -> None:
    response = stations.test_client().get(path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/m/sign-in")


def test_another_centres_loan_is_not_renewed_from_here(stations: Flask, clock: FrozenClock) -> None:
    theirs = there(stations)
    with stations.app_context(), database().write() as session:
        ladder = session.get_one(Item, theirs.ladder)
        loan = start_loan(session, item=ladder, resident_id=theirs.residents[0],
                          channel=LoanChannel.COUNTER, now=clock.now(), loan_days=2)  # fmt: skip
        loan_id, due = loan.id, loan.due_at
    refused = signed_in(stations).post(f"/m/tools/{loan_id}/renew")
    assert refused.status_code == 404
    assert alert_of(refused.get_data(as_text=True))  # said in words, not a bare error page
    with stations.app_context(), database().read() as session:
        kept = session.get_one(Loan, loan_id)
        assert (kept.renewals, kept.due_at) == (0, due)
