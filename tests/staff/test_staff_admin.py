"""The administration pages: admins only, validated, CSRF-protected, every change audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.errors import InvalidInput
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.lending.models.policies import LendingPolicy
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.spaces.models.seats import Seat
from booking.spaces.models.spaces import Space
from devices.fleet import provisioning
from kiosk.extensions import database
from kiosk.staff.admin.saving import reason_words
from tests.conftest import ADMIN_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def admin(client: FlaskClient, staff_auth: StaffActions, demo: None) -> StaffActions:
    staff_auth.sign_in("admin", ADMIN_PASSWORD)
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


def post(client: FlaskClient, staff: StaffActions, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": staff.csrf_token(), **data})


def read(app: Flask, query: Any) -> Any:
    with app.app_context(), database().read() as session:
        found = session.scalars(query).all()
        for row in found:
            if hasattr(row, "_sa_instance_state"):
                session.expunge(row)
        return found


def audited(app: Flask, action: str) -> list[AuditEntry]:
    return list(read(app, select(AuditEntry).where(AuditEntry.action == action)))


def study_room(app: Flask) -> Space:
    return read(app, select(Space).where(Space.code == "study"))[0]  # type: ignore[no-any-return]


def admin_requests(app: Flask) -> list[tuple[str, str]]:
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("staff.admin"):
                url = rule.build({name: 1 for name in rule.arguments})[1]  # type: ignore[index]
                found += [(m, url) for m in sorted(rule.methods or ()) if m in ("GET", "POST")]
    return found


def test_every_admin_page_refuses_staff_who_are_not_admins(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    requests = admin_requests(app)
    assert len(requests) >= 15
    token = staff_auth.csrf_token()
    for method, url in requests:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (method, url)
    assert "/staff/admin" not in client.get("/staff/").get_data(as_text=True)


def test_a_refused_or_missing_console_page_says_so_in_the_console_in_chinese(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    # Werkzeug's own pages were bare English ("Forbidden – You don't have the permission").
    staff_auth.sign_in()
    for url, status, words in [
        ("/staff/admin/hours", 403, "这个页面是给中心管理员用的"),
        ("/staff/residents/99999", 404, "没有这个页面，或者它显示的内容属于别的中心"),
        ("/staff/lending/items/9999", 404, "没有这个页面，或者它显示的内容属于别的中心"),
    ]:
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == status, url
        assert words in page and 'class="console-user"' in page, url
        assert "Forbidden" not in page and "Not Found" not in page, url


@pytest.mark.usefixtures("admin")
def test_every_admin_page_opens_for_admins(app: Flask, client: FlaskClient) -> None:
    space = study_room(app)
    for url in (
        "/staff/admin",
        "/staff/admin/hours",
        "/staff/admin/policy",
        "/staff/admin/spaces",
        f"/staff/admin/spaces/{space.id}",
        "/staff/admin/tools",
        "/staff/admin/tools/new",
        "/staff/admin/items/new",
        "/staff/admin/devices",
    ):
        assert client.get(url).status_code == 200, url


def test_a_change_without_a_csrf_token_is_refused(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    response = client.post("/staff/admin/hours", data={"opens_at": "07:00", "closes_at": "22:00"})
    assert response.status_code == 400
    assert read(app, select(Site.opens_at))[0] == time(8, 0)


CENTRE = {"name_zh": "新华社区邻里中心", "name_en": "Xinhua Neighbourhood Centre", "address": ""}


def test_opening_hours_are_saved_and_audited(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    response = post(
        client, admin, "/staff/admin/hours", **CENTRE, opens_at="07:30", closes_at="21:30"
    )
    assert response.status_code == 303
    site = read(app, select(Site))[0]
    assert (site.opens_at, site.closes_at) == (time(7, 30), time(21, 30))
    (entry,) = audited(app, "admin.site_changed")
    assert entry.detail == {"opens_at": ["08:00", "07:30"], "closes_at": ["21:00", "21:30"]}
    assert entry.actor == "staff:admin"


def test_the_centres_names_and_address_are_changed_on_the_same_page(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    response = post(
        client, admin, "/staff/admin/hours", name_zh="永盛社区邻里中心", name_en="Yongsheng Centre",
        address="永盛路 18 号", opens_at="08:00", closes_at="21:00",
    )  # fmt: skip
    assert response.status_code == 303
    site = read(app, select(Site))[0]
    assert (site.name_zh, site.name_en, site.address) == (
        "永盛社区邻里中心", "Yongsheng Centre", "永盛路 18 号",
    )  # fmt: skip
    assert site.slug == "xinhua"
    (entry,) = audited(app, "admin.site_changed")
    assert entry.detail["address"] == ["", "永盛路 18 号"]


@pytest.mark.parametrize(
    ("opens_at", "closes_at", "message"),
    [
        ("22:00", "08:00", "The opening time must come before the closing time."),
        ("", "21:00", "Enter a time."),
        ("8 o'clock", "21:00", "Not a valid time value."),
    ],
)
def test_bad_opening_hours_are_refused_and_change_nothing(
    app: Flask,
    client: FlaskClient,
    admin: StaffActions,
    opens_at: str,
    closes_at: str,
    message: str,
) -> None:
    response = post(
        client, admin, "/staff/admin/hours", **CENTRE, opens_at=opens_at, closes_at=closes_at
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert read(app, select(Site.opens_at))[0] == time(8, 0)
    assert audited(app, "admin.site_changed") == []


def test_a_space_is_changed_and_audited(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    meeting = read(app, select(Space).where(Space.code == "meeting"))[0]
    response = post(
        client,
        admin,
        f"/staff/admin/spaces/{meeting.id}",
        name_zh="议事厅",
        name_en="Meeting hall",
        capacity="30",
        opens_at="09:00",
        closes_at="17:00",
    )  # needs_approval unticked
    assert response.status_code == 303
    changed = read(app, select(Space).where(Space.id == meeting.id))[0]
    assert (changed.name_zh, changed.capacity, changed.needs_approval, changed.opens_at) == (
        "议事厅",
        30,
        False,
        time(9, 0),
    )
    (entry,) = audited(app, "admin.space_changed")
    assert entry.detail["needs_approval"] == [True, False]


def test_a_study_room_cannot_hold_fewer_people_than_seats(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    space = study_room(app)
    response = post(
        client,
        admin,
        f"/staff/admin/spaces/{space.id}",
        name_zh="自习室",
        name_en="Study",
        capacity="3",
    )
    assert response.status_code == 400
    assert read(app, select(Space.capacity).where(Space.id == space.id))[0] == space.capacity


def test_a_seat_is_added_with_its_features(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    space = study_room(app)
    response = post(
        client,
        admin,
        f"/staff/admin/spaces/{space.id}/seats",
        number="25",
        has_power="y",
        quiet_zone="y",
        map_row="4",
        map_col="1",
    )
    assert response.status_code == 303
    seat = read(app, select(Seat).where(Seat.space_id == space.id, Seat.number == 25))[0]
    assert (seat.has_power, seat.by_window, seat.quiet_zone, seat.map_row) == (True, False, True, 4)
    assert len(audited(app, "admin.seat_added")) == 1


def test_a_seat_number_used_already_is_refused(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    space = study_room(app)
    response = post(
        client, admin, f"/staff/admin/spaces/{space.id}/seats", number="1", map_row="0", map_col="0"
    )
    assert response.status_code == 400
    assert "That seat number exists already." in response.get_data(as_text=True)


def test_a_seats_features_are_changed(app: Flask, client: FlaskClient, admin: StaffActions) -> None:
    space = study_room(app)
    seat = read(app, select(Seat).where(Seat.space_id == space.id, Seat.number == 1))[0]
    response = post(
        client, admin, f"/staff/admin/seats/{seat.id}", by_window="y", map_row="2", map_col="3"
    )
    assert response.status_code == 303
    changed = read(app, select(Seat).where(Seat.id == seat.id))[0]
    assert (changed.has_power, changed.by_window, changed.map_row, changed.map_col) == (
        False,
        True,
        2,
        3,
    )
    assert len(audited(app, "admin.seat_changed")) == 1


TOOL = {"code": "saw", "name_zh": "手锯", "name_en": "Hand saw", "loan_days": "2"}


def test_a_tool_type_is_added(app: Flask, client: FlaskClient, admin: StaffActions) -> None:
    assert post(client, admin, "/staff/admin/tools/new", **TOOL).status_code == 303
    saw = read(app, select(ToolType).where(ToolType.code == "saw"))[0]
    assert (saw.name_en, saw.loan_days) == ("Hand saw", 2)
    assert len(audited(app, "admin.tool_type_added")) == 1


def drill_type(app: Flask) -> int:
    return int(read(app, select(ToolType.id).where(ToolType.code == "drill"))[0])


def register_locker(app: Flask, device_id: str = "locker-a") -> None:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site)).one()
        device, _ = provisioning.register_device(
            session, site.id, device_id, "locker", "", datetime(2026, 11, 24, tzinfo=UTC)
        )
        device.capabilities = {"compartments": 8}


def test_an_item_is_added_at_the_counter(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    response = post(
        client,
        admin,
        "/staff/admin/items/new",
        asset_tag="xinhua-drill-099",
        tool_type=str(drill_type(app)),
        locker="",
        status="available",
    )
    assert response.status_code == 303
    item = read(app, select(Item).where(Item.asset_tag == "XINHUA-DRILL-099"))[0]
    assert (item.at_counter, item.status) == (True, ItemStatus.AVAILABLE)
    assert len(audited(app, "admin.item_added")) == 1


def test_an_item_cannot_take_a_compartment_another_item_holds(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    register_locker(app)
    response = post(
        client,
        admin,
        "/staff/admin/items/new",
        asset_tag="XINHUA-DRILL-099",
        tool_type=str(drill_type(app)),
        locker="locker-a",
        compartment="1",
        status="available",
    )
    assert response.status_code == 400
    assert "Another item is kept in that compartment." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("locker", "compartment", "message"),
    [
        ("locker-a", "", "Choose a compartment."),
        ("", "3", "Items at the counter have no compartment."),
        ("locker-z", "3", "Not a valid choice"),
        ("locker-a", "9", "Give a whole number from 1 to 8."),
    ],
)
def test_an_item_needs_a_real_place(
    app: Flask,
    client: FlaskClient,
    admin: StaffActions,
    locker: str,
    compartment: str,
    message: str,
) -> None:
    register_locker(app)
    with app.app_context(), database().write() as session:
        # Compartment 3 of locker-a is free for these cases (the demo puts a drill there).
        session.execute(
            Item.__table__.update()
            .where(Item.locker_device_id == "locker-a", Item.compartment == 3)
            .values(locker_device_id=None, compartment=None)
        )
    response = post(
        client,
        admin,
        "/staff/admin/items/new",
        asset_tag="XINHUA-DRILL-099",
        tool_type=str(drill_type(app)),
        locker=locker,
        compartment=compartment,
        status="available",
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audited(app, "admin.item_added") == []


def test_an_item_is_sent_to_maintenance(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    register_locker(app)
    item = read(
        app, select(Item).where(Item.locker_device_id == "locker-a", Item.compartment == 2)
    )[0]
    response = post(
        client,
        admin,
        f"/staff/admin/items/{item.id}",
        asset_tag=item.asset_tag,
        tool_type=str(item.tool_type_id),
        locker="locker-a",
        compartment="2",
        status="maintenance",
    )
    assert response.status_code == 303
    assert read(app, select(Item.status).where(Item.id == item.id))[0] is ItemStatus.MAINTENANCE
    (entry,) = audited(app, "admin.item_changed")
    assert entry.detail == {"status": ["available", "maintenance"]}


POLICY = {
    "max_items_on_loan": "2",
    "hold_minutes": "60",
    "door_open_timeout_s": "45",
    "overdue_strikes": "3",
    "overdue_window_days": "60",
    "suspension_days": "14",
    "escalate_after_days": "2",
    "max_renewals": "2",
    "no_show_strikes": "0",
}


def test_the_lending_rules_are_saved_and_audited(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    assert post(client, admin, "/staff/admin/policy", **POLICY).status_code == 303
    policy = read(app, select(LendingPolicy))[0]
    assert (policy.max_items_on_loan, policy.hold_minutes, policy.suspension_days) == (2, 60, 14)
    (entry,) = audited(app, "admin.lending_policy_changed")
    assert entry.detail["max_items_on_loan"] == [3, 2]


def test_the_renewal_limit_and_the_no_show_rule_are_staffs_to_set(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    page = client.get("/staff/admin/policy").get_data(as_text=True)
    assert 'name="max_renewals"' in page and 'name="no_show_strikes"' in page
    assert post(client, admin, "/staff/admin/policy", **POLICY).status_code == 303
    policy = read(app, select(LendingPolicy))[0]
    assert (policy.max_renewals, policy.no_show_strikes) == (2, False)
    (entry,) = audited(app, "admin.lending_policy_changed")
    assert entry.detail["max_renewals"] == [1, 2]
    assert entry.detail["no_show_strikes"] == [True, False]
    refused = post(client, admin, "/staff/admin/policy", **{**POLICY, "no_show_strikes": "7"})
    assert refused.status_code == 400
    assert read(app, select(LendingPolicy))[0].no_show_strikes is False


def test_lending_rules_out_of_range_are_refused(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    response = post(client, admin, "/staff/admin/policy", **{**POLICY, "max_items_on_loan": "0"})
    assert response.status_code == 400
    assert "Enter a whole number from 1 to 20." in response.get_data(as_text=True)
    assert read(app, select(LendingPolicy)) == []


# --- creating and retiring spaces and tool types ------------------------------------------------

NEW_SPACE = {
    "code": "yoga",
    "kind": "activity",
    "name_zh": "瑜伽室",
    "name_en": "Yoga room",
    "capacity": "12",
}


def test_a_space_is_added_and_audited(app: Flask, client: FlaskClient, admin: StaffActions) -> None:
    assert client.get("/staff/admin/spaces/new").status_code == 200
    assert post(client, admin, "/staff/admin/spaces/new", **NEW_SPACE).status_code == 303
    yoga = read(app, select(Space).where(Space.code == "yoga"))[0]
    assert (yoga.name_zh, yoga.capacity, yoga.kind.value) == ("瑜伽室", 12, "activity")
    assert len(audited(app, "admin.space_added")) == 1
    assert "瑜伽室" in client.get("/staff/admin/spaces").get_data(as_text=True)


TOOL_TYPE_FORM = ("/staff/admin/tools/new", TOOL, "admin.tool_type_added")
SPACE_FORM = ("/staff/admin/spaces/new", NEW_SPACE, "admin.space_added")


@pytest.mark.parametrize(
    ("form", "field", "value", "message"),
    [
        pytest.param(TOOL_TYPE_FORM, "code", "drill", "That code is in use.", id="tool-code-used"),
        pytest.param(TOOL_TYPE_FORM, "code", "手锯", "Use letters, digits, - and _ only.", id="tool-code-chars"),
        pytest.param(TOOL_TYPE_FORM, "loan_days", "0", "Enter a whole number from 1 to 60.", id="tool-loan-days"),
        pytest.param(TOOL_TYPE_FORM, "name_en", "", "This is required.", id="tool-name-en"),
        pytest.param(SPACE_FORM, "code", "dance", "That code is in use.", id="space-code-used"),
        pytest.param(SPACE_FORM, "code", "瑜伽", "Use letters, digits, - and _ only.", id="space-code-chars"),
        pytest.param(SPACE_FORM, "kind", "garden", "Not a valid choice.", id="space-kind"),
        pytest.param(SPACE_FORM, "capacity", "0", "Enter a whole number from 1 to 500.", id="space-capacity"),
    ],
)  # fmt: skip
def test_a_bad_new_tool_type_or_space_is_refused_with_its_message_and_nothing_is_added(
    app: Flask,
    client: FlaskClient,
    admin: StaffActions,
    form: tuple[str, dict[str, str], str],
    field: str,
    value: str,
    message: str,
) -> None:
    path, good, audit_action = form
    response = post(client, admin, path, **{**good, field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert audited(app, audit_action) == []


def space_id(app: Flask, code: str) -> int:
    return int(read(app, select(Space.id).where(Space.code == code))[0])


def test_retiring_a_space_hides_it_from_the_kiosk_and_keeps_it_in_the_console(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    dance = space_id(app, "dance")
    response = post(client, admin, f"/staff/admin/spaces/{dance}/retire")
    assert response.status_code == 303
    assert read(app, select(Space).where(Space.id == dance))[0].retired_at is not None
    assert len(audited(app, "admin.space_retired")) == 1
    page = client.get(f"/staff/admin/spaces/{dance}").get_data(as_text=True)
    assert "Retired" in page and "Retire this space</button>" not in page
    with app.app_context(), database().read() as session:
        from kiosk.touch.spaces.rooms import activity_rooms

        site = session.scalars(select(Site)).first()
        assert site is not None
        assert dance not in [room.id for room in activity_rooms(session, site.id)]


def test_retiring_without_a_csrf_token_is_refused(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    dance = space_id(app, "dance")
    assert client.post(f"/staff/admin/spaces/{dance}/retire").status_code == 400
    assert read(app, select(Space).where(Space.id == dance))[0].retired_at is None


def test_a_space_with_bookings_to_come_is_not_retired_and_says_why(
    app: Flask, client: FlaskClient, admin: StaffActions, clock: FrozenClock
) -> None:
    from booking.people.models.residents import Resident
    from booking.spaces.models.bookings import Booking, BookingStatus

    dance = space_id(app, "dance")
    with app.app_context(), database().write() as session:
        resident = session.scalars(select(Resident)).first()
        assert resident is not None
        session.add(
            Booking(
                site_id=session.get_one(Space, dance).site_id,
                space_id=dance,
                resident_id=resident.id,
                starts_at=clock.now() + timedelta(days=1),
                ends_at=clock.now() + timedelta(days=1, hours=2),
                status=BookingStatus.CONFIRMED,
                created_at=clock.now(),
            )
        )
    response = post(client, admin, f"/staff/admin/spaces/{dance}/retire")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not retired: 1 bookings or loans are still live" in page
    assert read(app, select(Space).where(Space.id == dance))[0].retired_at is None
    assert audited(app, "admin.space_retired") == []


def test_retiring_a_tool_type_takes_it_out_of_lending(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    drill = drill_type(app)
    assert post(client, admin, f"/staff/admin/tools/{drill}/retire").status_code == 303
    assert read(app, select(ToolType).where(ToolType.id == drill))[0].retired_at is not None
    assert len(audited(app, "admin.tool_type_retired")) == 1
    with app.app_context(), database().read() as session:
        from booking.lending import catalogue as lending_catalogue

        catalogue = lending_catalogue.catalogue(session, site_id=read(app, select(Site.id))[0])
        assert drill not in [entry.tool_type.id for entry in catalogue]


def test_a_tool_type_with_an_item_lent_is_not_retired(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    drill = drill_type(app)
    with app.app_context(), database().write() as session:
        item = session.scalars(select(Item).where(Item.tool_type_id == drill)).first()
        assert item is not None
        item.status = ItemStatus.ON_LOAN
    response = post(client, admin, f"/staff/admin/tools/{drill}/retire")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not retired: 1 bookings or loans are still live" in page
    assert read(app, select(ToolType).where(ToolType.id == drill))[0].retired_at is None


@pytest.mark.parametrize(
    ("url", "fields", "words"),
    [
        ("/staff/admin/hours", {**CENTRE, "opens_at": "21:00", "closes_at": "08:00"},
         "开门时间要早于关门时间"),
        ("/staff/admin/items/new", {"asset_tag": "XINHUA-DRILL-099", "locker": "locker-a",
                                    "compartment": "9", "status": "available"},
         "请填 1 到 8 之间的整数"),
    ],
)  # fmt: skip
def test_a_refused_admin_change_says_why_in_chinese(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, url: str,
    fields: dict[str, str], words: str,
) -> None:  # fmt: skip
    # The checks' own sentences are English (for the API and the logs); shown after "未保存："
    # they left a Chinese form with an English reason.
    register_locker(app)
    staff_auth.sign_in("admin", ADMIN_PASSWORD)
    response = post(client, staff_auth, url, tool_type=str(drill_type(app)), **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"未保存：{words}" in page
    assert not re.search(r"未保存：[A-Za-z]", page)


def test_a_refusal_whose_reason_lacks_the_words_numbers_falls_back_to_its_own_sentence(
    app: Flask,
) -> None:
    # Reasons are named per rule: a lending window's "too_long" carries no max_length.
    with app.test_request_context():
        refused = InvalidInput("a window is at most 12 hours", reason="too_long")
        assert reason_words(refused) == "a window is at most 12 hours"
