"""A resident's account page in the console: binding a card (typed, or tapped on a terminal
while the console waits), unbinding a lost one, deactivating and reactivating, merging two
accounts of one person, and the residents list filtered by account status."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.core import sites
from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.health import pairing as health_pairing
from booking.lending.models.loans import Loan, LoanChannel, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item
from booking.people import cards, merging
from booking.people.models.residents import DeactivationReason, Resident
from booking.spaces.models.bookings import Booking, BookingStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space, SpaceKind
from booking.spaces.models.waitlist import WaitlistEntry, WaitlistStatus
from devices.models.device import Device, DeviceKind
from kiosk.extensions import database
from tests.conftest import StaffActions
from tests.kiosk.conftest import KioskActions
from tests.page_text import without_csrf_tokens

SHANGHAI = ZoneInfo("Asia/Shanghai")
WANG_PHONE, WANG_PIN = "13800000001", "275139"
ZHANG_PHONE = "13800000003"


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def signed_in(demo: None, staff_auth: StaffActions) -> StaffActions:
    assert staff_auth.sign_in().status_code == 302
    return staff_auth


def resident_id(app: Flask, phone: str) -> int:
    with app.app_context(), database().read() as session:
        found = session.scalar(select(Resident.id).where(Resident.phone == phone))
        assert found is not None
        return found


def resident(app: Flask, rid: int) -> Resident:
    with app.app_context(), database().read() as session:
        found = session.get_one(Resident, rid)
        session.expunge(found)
        return found


def post(client: FlaskClient, auth: StaffActions, url: str, **data: str) -> object:
    return client.post(url, data={"csrf_token": auth.csrf_token(), **data})


def text(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def audit_actions(app: Flask, rid: int) -> list[AuditEntry]:
    with app.app_context(), database().read() as session:
        rows = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject == f"resident:{rid}")
                .order_by(AuditEntry.id)
            )
        )
        for row in rows:
            session.expunge(row)
        return rows


# --- cards ------------------------------------------------------------------------------------


def test_staff_type_a_card_number_and_the_card_identifies_the_resident(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    zhang = resident_id(app, ZHANG_PHONE)
    page = client.get(f"/staff/residents/{zhang}/account")
    assert page.status_code == 200 and "绑定" in text(page)
    response = post(client, signed_in, f"/staff/residents/{zhang}/card", card_id="  CARD0777 ")
    assert response.status_code == 303
    assert resident(app, zhang).card_id == "CARD0777"
    assert "CARD0777" in text(client.get(f"/staff/residents/{zhang}/account"))
    with app.app_context(), database().read() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        found = health_pairing.resident_by_card(session, site_id=site.id, card_id="CARD0777")
        assert found is not None and found.id == zhang
    bound = [e for e in audit_actions(app, zhang) if e.action == "resident.card_bound"]
    assert bound and "CARD0777" not in str(bound[-1].detail)


def test_a_card_bound_to_someone_else_is_refused_with_a_clear_message(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    zhang = resident_id(app, ZHANG_PHONE)
    response = post(client, signed_in, f"/staff/residents/{zhang}/card", card_id="CARD0001")
    assert response.status_code == 409
    assert "这张卡已绑定给另一位居民" in text(response)
    assert resident(app, zhang).card_id is None
    assert resident(app, resident_id(app, WANG_PHONE)).card_id == "CARD0001"


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ("", "请输入卡号"),
        ("CARD 01", "卡号只能包含字母、数字、- 和 _"),
        ("卡号", "卡号只能包含字母、数字、- 和 _"),
        ("C" * 41, "卡号最多 40 个字符"),
    ],
)
def test_a_bad_card_number_is_a_400_with_the_reason_and_changes_nothing(
    app: Flask, client: FlaskClient, signed_in: StaffActions, card: str, message: str
) -> None:
    zhang = resident_id(app, ZHANG_PHONE)
    response = post(client, signed_in, f"/staff/residents/{zhang}/card", card_id=card)
    assert response.status_code == 400
    assert message in text(response)
    assert resident(app, zhang).card_id is None


def test_a_lost_card_is_unbound_and_stops_identifying_the_resident_at_once(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    wang = resident_id(app, WANG_PHONE)
    unconfirmed = post(client, signed_in, f"/staff/residents/{wang}/card/unbind")
    assert unconfirmed.status_code == 400 and "请勾选以确认" in text(unconfirmed)
    assert resident(app, wang).card_id == "CARD0001"
    response = post(client, signed_in, f"/staff/residents/{wang}/card/unbind", confirm="y")
    assert response.status_code == 303
    assert resident(app, wang).card_id is None
    with app.app_context(), database().read() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        assert health_pairing.resident_by_card(session, site_id=site.id, card_id="CARD0001") is None
    entry = [e for e in audit_actions(app, wang) if e.action == "resident.card_unbound"][-1]
    assert "CARD0001" not in str(entry.detail) and entry.subject == f"resident:{wang}"


def _terminal(app: Flask, device_id: str = "bp-1") -> None:
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        session.add(
            Device(
                site_id=site.id, device_id=device_id, kind=DeviceKind.BP_TERMINAL, name="血压计",
                mqtt_password_hash="$7$unused", capabilities={}, online=True,
                created_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )  # fmt: skip


def _read(app: Flask, clock: FrozenClock, card: str, device_id: str = "bp-1") -> object:
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        return cards.card_read(
            session, site_id=site.id, device_id=device_id, card_id=card, now=clock.now()
        )


def test_bind_card_waits_for_the_tap_on_the_sites_only_terminal_and_the_page_shows_it(
    app: Flask, client: FlaskClient, signed_in: StaffActions, clock: FrozenClock
) -> None:
    _terminal(app)
    zhang = resident_id(app, ZHANG_PHONE)
    page = text(client.get(f"/staff/residents/{zhang}/account"))
    # The only terminal is chosen already.
    assert re.search(r'<option selected value="bp-1">|<option value="bp-1" selected>', page)
    started = post(client, signed_in, f"/staff/residents/{zhang}/card/read", terminal="bp-1")
    assert started.status_code == 303
    bind_id = int(re.search(r"bind=(\d+)", started.headers["Location"]).group(1))
    status_url = f"/staff/residents/{zhang}/card/binds/{bind_id}.json"
    assert client.get(status_url).get_json()["status"] == "waiting"
    assert "等待" in text(client.get(started.headers["Location"]))

    clock.advance(timedelta(seconds=30))
    outcome = _read(app, clock, "CARD0888")
    assert outcome is not None and outcome.bound  # type: ignore[attr-defined]
    state = client.get(status_url).get_json()
    assert state == {"status": "bound", "message": "卡已绑定。", "done": True}
    assert resident(app, zhang).card_id == "CARD0888"
    # Used up: the next read is a measurement's again.
    assert _read(app, clock, "CARD0999") is None


def test_a_tapped_card_of_someone_else_is_refused_and_the_page_says_so(
    app: Flask, client: FlaskClient, signed_in: StaffActions, clock: FrozenClock
) -> None:
    _terminal(app)
    zhang = resident_id(app, ZHANG_PHONE)
    started = post(client, signed_in, f"/staff/residents/{zhang}/card/read", terminal="bp-1")
    _read(app, clock, "CARD0001")
    assert "这张卡已绑定给另一位居民" in text(client.get(started.headers["Location"]))
    assert resident(app, zhang).card_id is None


def test_a_bind_nobody_taps_expires_after_two_minutes(
    app: Flask, client: FlaskClient, signed_in: StaffActions, clock: FrozenClock
) -> None:
    _terminal(app)
    zhang = resident_id(app, ZHANG_PHONE)
    started = post(client, signed_in, f"/staff/residents/{zhang}/card/read", terminal="bp-1")
    bind_id = int(re.search(r"bind=(\d+)", started.headers["Location"]).group(1))
    clock.advance(timedelta(minutes=2))
    assert _read(app, clock, "CARD0888") is None
    state = client.get(f"/staff/residents/{zhang}/card/binds/{bind_id}.json").get_json()
    assert state["status"] == "expired"
    assert resident(app, zhang).card_id is None


def test_a_terminal_that_is_not_the_sites_is_a_400(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    _terminal(app)
    zhang = resident_id(app, ZHANG_PHONE)
    response = post(
        client, signed_in, f"/staff/residents/{zhang}/card/read", terminal="bp-elsewhere"
    )
    assert response.status_code == 400


# --- deactivation -----------------------------------------------------------------------------


@pytest.fixture
def wang_booked(app: Flask, demo: None) -> dict[str, int]:
    """王秀英 holds seat 7 tomorrow 14–16, 张伟 waits for it, and 王秀英 has a drill out."""
    wang, zhang = resident_id(app, WANG_PHONE), resident_id(app, ZHANG_PHONE)
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        study = session.scalar(select(Space).where(Space.kind == SpaceKind.STUDY))
        seat = session.scalar(select(Seat).where(Seat.space_id == study.id, Seat.number == 7))
        now = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
        booking = Booking(
            site_id=site.id, resident_id=wang, space_id=study.id, seat_id=seat.id,
            status=BookingStatus.CONFIRMED, starts_at=local(25, 14), ends_at=local(25, 16),
            created_at=now,
        )  # fmt: skip
        wait = WaitlistEntry(
            site_id=site.id, space_id=study.id, seat_id=seat.id, resident_id=zhang,
            starts_at=local(25, 14), ends_at=local(25, 16), status=WaitlistStatus.WAITING,
            created_at=now,
        )  # fmt: skip
        drill = session.scalar(select(Item).join(ToolType).where(ToolType.code == "drill"))
        loan = Loan(
            site_id=site.id, item_id=drill.id, tool_type_id=drill.tool_type_id, resident_id=wang,
            status=LoanStatus.ACTIVE, channel=LoanChannel.COUNTER, started_at=now,
            due_at=now + timedelta(days=7),
        )  # fmt: skip
        session.add_all([booking, wait, loan])
        session.flush()
        return {"booking": booking.id, "wait": wait.id, "loan": loan.id}


def test_deactivating_signs_the_resident_out_for_good_cancels_bookings_and_lists_the_loan(
    app: Flask, client: FlaskClient, signed_in: StaffActions, wang_booked: dict[str, int]
) -> None:
    wang, zhang = resident_id(app, WANG_PHONE), resident_id(app, ZHANG_PHONE)
    at_kiosk = KioskActions(app.test_client())
    assert at_kiosk.sign_in(WANG_PHONE, WANG_PIN).status_code == 302
    assert at_kiosk.is_signed_in()

    response = post(
        client, signed_in, f"/staff/residents/{wang}/deactivate", reason="moved_away", confirm="y"
    )
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "已停用" in page and "迁出" in page
    # The drill is still out: listed for staff, not closed.
    assert f'data-loan="{wang_booked["loan"]}"' in page
    with app.app_context(), database().read() as session:
        assert session.get_one(Loan, wang_booked["loan"]).status is LoanStatus.ACTIVE
        assert session.get_one(Booking, wang_booked["booking"]).status is BookingStatus.CANCELLED
        # The freed seat went to the waiting list at once.
        offer = session.scalar(
            select(Booking).where(
                Booking.resident_id == zhang, Booking.status == BookingStatus.HELD
            )
        )
        assert offer is not None
    # Signed out now, and the right PIN answers as a wrong one.
    assert not at_kiosk.is_signed_in()
    again = at_kiosk.sign_in(WANG_PHONE, WANG_PIN)
    wrong = KioskActions(app.test_client()).sign_in(WANG_PHONE, "000000")
    assert again.status_code == wrong.status_code == 401
    assert without_csrf_tokens(text(again)) == without_csrf_tokens(text(wrong))
    # The card identifies nobody while the account is deactivated.
    with app.app_context(), database().read() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        assert health_pairing.resident_by_card(session, site_id=site.id, card_id="CARD0001") is None
    entry = [e for e in audit_actions(app, wang) if e.action == "resident.deactivated"][-1]
    assert entry.detail["reason"] == "moved_away"
    assert entry.detail["bookings_ended"] == [wang_booked["booking"]]
    assert "王秀英" not in str(entry.detail) and WANG_PHONE not in str(entry.detail)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"confirm": "y"}, "请选择原因"),
        ({"reason": "moved_away"}, "请勾选以确认"),
        ({"reason": "merged", "confirm": "y"}, "Not a valid choice"),
    ],
)
def test_deactivating_without_a_reason_or_confirmation_is_a_400_and_changes_nothing(
    app: Flask, client: FlaskClient, signed_in: StaffActions, data: dict[str, str], message: str
) -> None:
    wang = resident_id(app, WANG_PHONE)
    response = post(client, signed_in, f"/staff/residents/{wang}/deactivate", **data)
    assert response.status_code == 400
    assert resident(app, wang).is_active


def test_a_deactivated_resident_is_reactivated_and_signs_in_again(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    wang = resident_id(app, WANG_PHONE)
    post(client, signed_in, f"/staff/residents/{wang}/deactivate", reason="other", confirm="y")
    twice = post(
        client, signed_in, f"/staff/residents/{wang}/deactivate", reason="other", confirm="y"
    )
    assert twice.status_code == 409
    response = post(client, signed_in, f"/staff/residents/{wang}/reactivate", confirm="y")
    assert response.status_code == 303
    assert resident(app, wang).is_active
    assert KioskActions(app.test_client()).sign_in(WANG_PHONE, WANG_PIN).status_code == 302
    actions = [e.action for e in audit_actions(app, wang)]
    assert actions[-2:] == ["resident.deactivated", "resident.reactivated"]


# --- merging ----------------------------------------------------------------------------------


def test_merging_moves_everything_to_the_survivor_and_no_row_points_at_the_merged_account(
    app: Flask, client: FlaskClient, signed_in: StaffActions, wang_booked: dict[str, int]
) -> None:
    wang, zhang = resident_id(app, WANG_PHONE), resident_id(app, ZHANG_PHONE)
    response = post(
        client, signed_in, f"/staff/residents/{zhang}/merge",
        other=WANG_PHONE, survivor="other", confirm="y",
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/residents/{wang}/account")
    with app.app_context(), database().read() as session:
        for table, column in merging.resident_references():
            if table.name == "resident_memberships":
                continue  # the account itself: staff of its centres still find it
            left = session.scalar(
                select(func.count()).select_from(table).where(table.c[column] == zhang)
            )
            assert left == 0, f"{table.name}.{column} still points at the merged account"
        merged = session.get_one(Resident, zhang)
        assert merged.deactivation_reason is DeactivationReason.MERGED
        assert merged.merged_into_id == wang
        # 张伟's wait for 王秀英's own seat moved to her: same person, no clash in time.
        assert session.scalar(select(func.count()).select_from(WaitlistEntry).where(
            WaitlistEntry.resident_id == wang)) == 1  # fmt: skip
        assert session.get_one(Loan, wang_booked["loan"]).resident_id == wang
    assert KioskActions(app.test_client()).sign_in(ZHANG_PHONE, "497315").status_code != 302
    entry = [e for e in audit_actions(app, zhang) if e.action == "resident.merged"][-1]
    assert entry.detail["merged_id"] == zhang and entry.detail["survivor_id"] == wang
    page = text(client.get(f"/staff/residents/{zhang}/account"))
    assert f"已合并到 {wang} 号" in page or f"已合并到{wang}号" in page


def test_merging_two_accounts_both_booked_at_the_same_time_is_refused(
    app: Flask, client: FlaskClient, signed_in: StaffActions, wang_booked: dict[str, int]
) -> None:
    wang, zhang = resident_id(app, WANG_PHONE), resident_id(app, ZHANG_PHONE)
    with app.app_context(), database().write() as session:
        site = sites.get_site_by_slug(session, "xinhua")
        study = session.scalar(select(Space).where(Space.kind == SpaceKind.STUDY))
        seat = session.scalar(select(Seat).where(Seat.space_id == study.id, Seat.number == 8))
        session.add(Booking(
            site_id=site.id, resident_id=zhang, space_id=study.id, seat_id=seat.id,
            status=BookingStatus.CONFIRMED, starts_at=local(25, 15), ends_at=local(25, 17),
            created_at=datetime(2026, 11, 24, 1, 30, tzinfo=UTC),
        ))  # fmt: skip
    response = post(
        client, signed_in, f"/staff/residents/{wang}/merge",
        other=str(zhang), survivor="this", confirm="y",
    )  # fmt: skip
    assert response.status_code == 409
    assert "两个账户在同一时间都有预约" in text(response)
    assert resident(app, zhang).is_active and resident(app, wang).is_active


def test_merging_keeps_the_survivors_card_and_the_other_card_stops_working(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    wang = resident_id(app, WANG_PHONE)
    li = resident_id(app, "13800000002")  # CARD0002
    response = post(
        client, signed_in, f"/staff/residents/{wang}/merge", other=str(li), survivor="this",
        confirm="y",
    )  # fmt: skip
    assert response.status_code == 303
    assert resident(app, wang).card_id == "CARD0001"
    assert resident(app, li).card_id is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"other": "99999", "survivor": "this", "confirm": "y"},
            "本中心没有这个编号或手机号的居民",
        ),
        ({"other": "张伟", "survivor": "this", "confirm": "y"}, "本中心没有这个编号或手机号的居民"),
        ({"other": "13800000003", "confirm": "y"}, "请选择保留哪个账户"),
        ({"other": "13800000003", "survivor": "this"}, "请勾选以确认"),
        ({"other": "1" * 21, "survivor": "this", "confirm": "y"}, "最多 20 个字"),
    ],
)
def test_a_bad_merge_form_is_a_400_and_changes_nothing(
    app: Flask, client: FlaskClient, signed_in: StaffActions, data: dict[str, str], message: str
) -> None:
    wang = resident_id(app, WANG_PHONE)
    response = post(client, signed_in, f"/staff/residents/{wang}/merge", **data)
    assert response.status_code == 400
    assert message in text(response)
    assert resident(app, resident_id(app, ZHANG_PHONE)).is_active


def test_merging_an_account_into_itself_is_refused(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    wang = resident_id(app, WANG_PHONE)
    response = post(
        client, signed_in, f"/staff/residents/{wang}/merge", other=WANG_PHONE, survivor="this",
        confirm="y",
    )  # fmt: skip
    assert response.status_code == 409
    assert resident(app, wang).is_active


# --- the residents list -----------------------------------------------------------------------


def test_the_residents_list_filters_active_and_deactivated_accounts(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    wang = resident_id(app, WANG_PHONE)
    post(client, signed_in, f"/staff/residents/{wang}/deactivate", reason="deceased", confirm="y")
    deactivated = text(client.get("/staff/residents?status=deactivated"))
    active = text(client.get("/staff/residents?status=active"))
    assert "王秀英" in deactivated and "张伟" not in deactivated
    assert "王秀英" not in active and "张伟" in active
    assert "王秀英" in text(client.get("/staff/residents"))
    assert client.get("/staff/residents?status=gone").status_code == 400


def test_another_centres_staff_cannot_reach_the_account_page(
    app: Flask, client: FlaskClient, signed_in: StaffActions
) -> None:
    assert client.get("/staff/residents/99999/account").status_code == 404
    assert client.get("/staff/residents/99999/card/binds/1.json").status_code == 404
