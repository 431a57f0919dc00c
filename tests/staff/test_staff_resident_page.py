"""A resident's page in the console: their bookings, strikes and suspensions, loans and
health consent, and lifting a suspension; reading values only behind a link."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core import sites
from booking.core.models.audit import AuditEntry
from booking.health.models.consents import ConsentChannel, HealthConsent
from booking.health.models.readings import BpReading
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.suspensions import LendingSuspension
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people.models.residents import Resident
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from booking.spaces.models.strikes import NoShowStrike
from booking.spaces.models.suspensions import BookingSuspension
from kiosk.extensions import database
from tests.conftest import StaffActions
from tests.kiosk.conftest import KioskActions
from tests.page_text import without_csrf_tokens

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)  # the suite's clock: Tuesday 09:30 in Shanghai


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def signed_in(demo: None, staff_auth: StaffActions) -> None:
    assert staff_auth.sign_in().status_code == 302


@pytest.fixture
def wang(app: Flask, demo: None) -> int:
    with app.app_context(), database().read() as session:
        resident = session.scalar(select(Resident).where(Resident.name == "王秀英"))
        assert resident is not None
        return resident.id


@pytest.fixture
def record(app: Flask, wang: int) -> dict[str, int]:
    """王秀英: a seat booked for tomorrow, a no-show last week that led to a suspension in
    force, an overdue drill and a borrowing suspension in force."""
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        study = session.scalar(select(Space).where(Space.kind == SpaceKind.STUDY))
        assert study is not None
        seat = session.scalar(select(Seat).where(Seat.space_id == study.id, Seat.number == 7))
        assert seat is not None
        common = {"site_id": site.id, "resident_id": wang, "space_id": study.id}
        upcoming = Booking(
            seat_id=seat.id,
            status=BookingStatus.CONFIRMED,
            starts_at=local(25, 14),
            ends_at=local(25, 16),
            created_at=NOW,
            **common,
        )
        missed = Booking(
            seat_id=seat.id,
            status=BookingStatus.NO_SHOW,
            starts_at=local(18, 10),
            ends_at=local(18, 11),
            created_at=local(17, 9),
            **common,
        )
        session.add_all([upcoming, missed])
        session.flush()
        suspension = BookingSuspension(
            site_id=site.id, resident_id=wang, starts_at=local(18, 10), ends_at=local(25, 10)
        )
        session.add(suspension)
        session.flush()
        session.add(
            NoShowStrike(
                site_id=site.id,
                resident_id=wang,
                booking_id=missed.id,
                given_at=local(18, 10),
                suspension_id=suspension.id,
            )
        )
        drill = session.scalar(select(Item).join(ToolType).where(ToolType.code == "drill"))
        assert drill is not None
        loan = Loan(
            site_id=site.id,
            item_id=drill.id,
            tool_type_id=drill.tool_type_id,
            resident_id=wang,
            channel=LoanChannel.COUNTER,
            status=LoanStatus.OVERDUE,
            started_at=local(17, 10),
            due_at=local(20, 10),
            overdue_since=local(20, 10),
        )
        lending_suspension = LendingSuspension(
            site_id=site.id, resident_id=wang, starts_at=local(22, 10), ends_at=local(30, 10)
        )
        session.add_all([loan, lending_suspension])
        session.flush()
        return {
            "upcoming": upcoming.id,
            "suspension": suspension.id,
            "loan": loan.id,
            "lending_suspension": lending_suspension.id,
        }


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def audit_actions(app: Flask) -> list[tuple[str, str]]:
    with app.app_context(), database().read() as session:
        return [
            (e.action, e.subject)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def lift(client: FlaskClient, path: str, reason: str | None, prefix: str = "seat") -> object:
    data = {"csrf_token": csrf(client, "/staff/")}
    if reason is not None:
        data[f"{prefix}-reason"] = reason
    return client.post(path, data=data)


# --- what the page shows ------------------------------------------------------------------------


@pytest.mark.usefixtures("signed_in")
def test_the_page_lists_upcoming_and_past_bookings_with_their_status(
    client: FlaskClient, wang: int, record: dict[str, int]
) -> None:
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    upcoming = re.search(rf'<tr data-booking="{record["upcoming"]}">(.*?)</tr>', page, re.S)
    assert upcoming and "2026-11-25 14:00–16:00" in upcoming.group(1)
    assert "座位 7" in upcoming.group(1) and "已预约" in upcoming.group(1)
    assert "爽约" in page.split('id="strikes"')[0]  # last week's booking, under "Recent"


@pytest.mark.usefixtures("signed_in", "record")
def test_the_page_shows_strikes_and_the_suspension_in_force_with_a_lift_form(
    client: FlaskClient, wang: int
) -> None:
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    strikes = page.split('id="strikes"')[1].split('id="loans"')[0]
    assert "2026-11-25 10:00 前不能预约自习座位" in strikes
    assert "1 次爽约记录" in strikes
    assert 'name="seat-reason"' in strikes


@pytest.mark.usefixtures("signed_in")
def test_the_page_shows_open_loans_with_overdue_marked_in_words(
    client: FlaskClient, wang: int, record: dict[str, int]
) -> None:
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    loan = re.search(rf'<tr data-loan="{record["loan"]}">(.*?)</tr>', page, re.S)
    assert loan and "电钻" in loan.group(1) and "XINHUA-DRILL-001" in loan.group(1)
    assert "逾期" in loan.group(1)
    assert "2026-11-30 10:00 前不能借用工具" in page


@pytest.mark.usefixtures("signed_in")
def test_a_resident_with_nothing_on_record_gets_plain_empty_sections(
    client: FlaskClient, wang: int
) -> None:
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    for empty in ("没有预约。", "没有爽约记录。", "没有在借的工具。", "可以预约自习座位。"):
        assert empty in page
    assert "seat-reason" not in page and "/readings" not in page


# --- lifting suspensions ------------------------------------------------------------------------


@pytest.mark.usefixtures("signed_in")
def test_lifting_a_seat_suspension_with_a_reason_records_it(
    app: Flask, client: FlaskClient, wang: int, record: dict[str, int]
) -> None:
    path = f"/staff/residents/{wang}/seat-suspensions/{record['suspension']}/lift"
    response = lift(client, path, "  社区活动误会，已核实  ")
    assert response.status_code == 303  # type: ignore[attr-defined]
    with app.app_context(), database().read() as session:
        suspension = session.get(BookingSuspension, record["suspension"])
        assert suspension is not None and suspension.lifted_at == NOW
        assert suspension.lift_reason == "社区活动误会，已核实"
    assert audit_actions(app)[-1] == ("booking.suspension_lifted", f"resident:{wang}")
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert "暂停已解除。" in page and "可以预约自习座位。" in page


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    ("reason", "message"),
    [(None, "请说明解除暂停的原因。"), ("   ", "请说明解除暂停的原因。"), ("长" * 301, "300")],
    ids=["missing", "blank", "too-long"],
)
def test_lifting_without_a_proper_reason_changes_nothing(
    app: Flask,
    client: FlaskClient,
    wang: int,
    record: dict[str, int],
    reason: str | None,
    message: str,
) -> None:
    path = f"/staff/residents/{wang}/seat-suspensions/{record['suspension']}/lift"
    before = audit_actions(app)
    response = lift(client, path, reason)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert message in response.get_data(as_text=True)  # type: ignore[attr-defined]
    with app.app_context(), database().read() as session:
        suspension = session.get(BookingSuspension, record["suspension"])
        assert suspension is not None and suspension.lifted_at is None
    assert audit_actions(app) == before


@pytest.mark.usefixtures("signed_in")
def test_lifting_needs_the_csrf_token(
    app: Flask, client: FlaskClient, wang: int, record: dict[str, int]
) -> None:
    path = f"/staff/residents/{wang}/seat-suspensions/{record['suspension']}/lift"
    response = client.post(path, data={"seat-reason": "误会"})
    assert response.status_code == 400
    with app.app_context(), database().read() as session:
        suspension = session.get(BookingSuspension, record["suspension"])
        assert suspension is not None and suspension.lifted_at is None


@pytest.mark.usefixtures("signed_in")
def test_lifting_a_suspension_twice_says_it_is_no_longer_in_force(
    client: FlaskClient, wang: int, record: dict[str, int]
) -> None:
    path = f"/staff/residents/{wang}/seat-suspensions/{record['suspension']}/lift"
    assert lift(client, path, "误会").status_code == 303  # type: ignore[attr-defined]
    again = lift(client, path, "误会")
    assert again.status_code == 409  # type: ignore[attr-defined]
    assert "暂停已不再生效" in again.get_data(as_text=True)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("signed_in")
def test_a_suspension_of_someone_else_cannot_be_lifted_through_this_resident(
    app: Flask, client: FlaskClient, record: dict[str, int]
) -> None:
    with app.app_context(), database().read() as session:
        other = session.scalar(select(Resident).where(Resident.name == "李建国"))
        assert other is not None
        other_id = other.id
    path = f"/staff/residents/{other_id}/seat-suspensions/{record['suspension']}/lift"
    assert lift(client, path, "误会").status_code == 404  # type: ignore[attr-defined]
    with app.app_context(), database().read() as session:
        suspension = session.get(BookingSuspension, record["suspension"])
        assert suspension is not None and suspension.lifted_at is None


@pytest.mark.usefixtures("signed_in")
def test_lifting_a_borrowing_suspension_is_recorded_by_the_lending_service(
    app: Flask, client: FlaskClient, wang: int, record: dict[str, int]
) -> None:
    path = f"/staff/residents/{wang}/lending-suspensions/{record['lending_suspension']}/lift"
    before = audit_actions(app)
    response = lift(client, path, "工具已归还", prefix="lending")
    assert response.status_code == 303  # type: ignore[attr-defined]
    with app.app_context(), database().read() as session:
        suspension = session.get(LendingSuspension, record["lending_suspension"])
        assert suspension is not None and suspension.lifted_at == NOW
    assert audit_actions(app)[len(before) :] == [("lending.suspension_lifted", f"resident:{wang}")]


# --- blood pressure -----------------------------------------------------------------------------


@pytest.fixture
def readings(app: Flask, wang: int) -> None:
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        session.add(
            HealthConsent(
                resident_id=wang,
                site_id=site.id,
                given_at=local(2, 9),
                channel=ConsentChannel.KIOSK,
                notice_version="2026-1",
            )
        )
        session.add(
            BpReading(
                resident_id=wang,
                site_id=site.id,
                device_id="bp-1",
                identified_by="card",
                systolic=163.0,
                diastolic=97.0,
                mean_arterial_pressure=119.0,
                pulse=77,
                device_unit="mmHg",
                measured_at=local(23, 9),
                received_at=local(23, 9),
                ruleset="china",
                category="grade_2",
                level=3,
            )
        )


@pytest.mark.usefixtures("signed_in", "readings")
def test_the_resident_page_shows_no_reading_values_and_links_to_the_health_page(
    app: Flask, client: FlaskClient, wang: int
) -> None:
    before = audit_actions(app)
    page = without_csrf_tokens(client.get(f"/staff/residents/{wang}").get_data(as_text=True))
    assert "已保存 1 条读数，最近一次测量于 2026-11-23 09:00。" in page
    assert "163" not in page and "97" not in page
    # The values are on the health area's page for the resident, which audits each opening.
    assert f'href="/staff/health/residents/{wang}"' in page
    assert audit_actions(app) == before


def test_the_resident_page_needs_a_signed_in_staff_member(client: FlaskClient, wang: int) -> None:
    response = client.get(f"/staff/residents/{wang}")
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]


def test_staff_clear_a_residents_wrong_pins_and_the_clearing_is_audited(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, wang: int
) -> None:
    kiosk = KioskActions(app.test_client())
    for _ in range(3):
        kiosk.sign_in(pin="9999")
    assert kiosk.sign_in().status_code == 429  # the right PIN must wait now
    staff_auth.sign_in()
    page = client.get(f"/staff/residents/{wang}").get_data(as_text=True)
    assert "输错密码（近一小时）</dt><dd>3</dd>" in page
    response = client.post(
        f"/staff/residents/{wang}/sign-in-failures/clear",
        data={"csrf_token": staff_auth.csrf_token()},
    )
    assert response.status_code == 303
    assert audit_actions(app)[-1] == ("resident.sign_in_failures_cleared", f"resident:{wang}")
    assert kiosk.sign_in().status_code == 302


def test_clearing_wrong_pins_needs_the_csrf_token(
    client: FlaskClient, signed_in: None, wang: int
) -> None:
    assert client.post(f"/staff/residents/{wang}/sign-in-failures/clear").status_code == 400


def test_a_resident_of_another_centre_has_no_wrong_pins_to_clear_here(
    client: FlaskClient, staff_auth: StaffActions, signed_in: None
) -> None:
    response = client.post(
        "/staff/residents/999999/sign-in-failures/clear",
        data={"csrf_token": staff_auth.csrf_token()},
    )
    assert response.status_code == 404
