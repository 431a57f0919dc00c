"""The console's lending pages: records with filters and pages, CSV for Excel, the overdue
list, item and resident history, counter lending and returns, and maintenance opens that
are refused before anything is recorded."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.lending import operations as lending
from booking.lending import records as lending_records
from booking.lending.models.events import LendingAction, LendingEvent
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.tool_types import ToolType
from booking.lending.models.tools import Item, ItemStatus
from booking.people import residents
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from devices.models.commands import DeviceCommand
from kiosk.extensions import database
from tests.conftest import StaffActions

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def english(client: FlaskClient, staff_auth: StaffActions) -> StaffActions:
    """Signed in as zhao, reading the console in English."""
    assert staff_auth.sign_in().status_code == 302
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


def item_id(app: Flask, tag: str) -> int:
    with app.app_context(), database().read() as session:
        return int(session.scalar(select(Item.id).where(Item.asset_tag == tag)) or 0)


def resident_id(app: Flask, phone: str) -> int:
    with app.app_context(), database().read() as session:
        return int(session.scalar(select(Resident.id).where(Resident.phone == phone)) or 0)


def lend(app: Flask, clock: FrozenClock, tag: str, phone: str, *, ago: timedelta) -> int:
    """A counter loan made ``ago`` before the test's now, through the lending service."""
    with app.app_context(), database().write() as session:
        staff = session.scalars(select(StaffAccount).where(StaffAccount.username == "zhao")).one()
        loan = lending.lend_at_counter(
            session,
            staff=staff,
            item_id=item_id(app, tag),
            resident_id=resident_id(app, phone),
            now=clock.now() - ago,
        )
        return loan.id


def listed_loans(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-loan="(\d+)"', page)]


def count(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context(), database().read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# --- records ----------------------------------------------------------------------------------


def test_the_console_nav_has_lending_records(client: FlaskClient, english: StaffActions) -> None:
    page = client.get("/staff/").get_data(as_text=True)
    assert '<a href="/staff/lending">Lending records</a>' in page


def test_the_nav_says_借还记录_in_chinese(client: FlaskClient, staff_auth: StaffActions) -> None:
    staff_auth.sign_in()
    assert "借还记录" in client.get("/staff/lending").get_data(as_text=True)


def test_the_records_need_a_signed_in_staff_member(client: FlaskClient) -> None:
    response = client.get("/staff/lending")
    assert response.status_code == 302 and "/staff/sign-in" in response.headers["Location"]
    assert client.get("/staff/lending/records.csv").status_code == 302


def test_records_list_loans_newest_first_and_filter_by_resident_tool_and_status(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    cart = lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=3))
    ladder = lend(app, clock, "XINHUA-LONG-LADDER-001", "13800000002", ago=timedelta(hours=1))
    assert listed_loans(client.get("/staff/lending").get_data(as_text=True)) == [ladder, cart]
    by_name = client.get("/staff/lending", query_string={"resident": "王秀"})
    assert listed_loans(by_name.get_data(as_text=True)) == [cart]
    with app.app_context(), database().read() as session:
        ladder_type = session.scalar(select(ToolType.id).where(ToolType.code == "long-ladder"))
    by_tool = client.get("/staff/lending", query_string={"tool_type": str(ladder_type)})
    assert listed_loans(by_tool.get_data(as_text=True)) == [ladder]
    by_tag = client.get("/staff/lending", query_string={"item": "cart-001"})
    assert listed_loans(by_tag.get_data(as_text=True)) == [cart]
    returned = client.get("/staff/lending", query_string={"status": "returned"})
    assert listed_loans(returned.get_data(as_text=True)) == []


def test_overdue_only_and_the_overdue_list_show_late_loans_first(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    # A drag cart is lent for one day: two days ago is one day late.
    late = lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(days=2))
    lend(app, clock, "XINHUA-CART-002", "13800000002", ago=timedelta(hours=1))
    page = client.get("/staff/lending", query_string={"overdue": "y"}).get_data(as_text=True)
    assert listed_loans(page) == [late]
    overdue = client.get("/staff/lending/overdue").get_data(as_text=True)
    assert listed_loans(overdue) == [late]
    assert "1 day late" in overdue


def test_pages_of_records_follow_with_an_older_link(
    app: Flask,
    client: FlaskClient,
    english: StaffActions,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = []
    for hours in range(60, 0, -1):  # 60 returned loans of one cart, an hour apart
        loan_id = lend(app, clock, "XINHUA-CART-001", "13800000003", ago=timedelta(hours=hours))
        with app.app_context(), database().write() as session:
            staff = session.scalars(
                select(StaffAccount).where(StaffAccount.username == "zhao")
            ).one()
            lending.return_at_counter(
                session, staff=staff, loan_id=loan_id, condition="fine",
                now=clock.now() - timedelta(hours=hours) + timedelta(minutes=30),
            )  # fmt: skip
        made.append(loan_id)
    first = client.get("/staff/lending").get_data(as_text=True)
    assert listed_loans(first) == list(reversed(made))[:50]
    assert "60 loans" in first
    # Past the count limit the page says so instead of counting every loan of the centre.
    monkeypatch.setattr(lending_records, "COUNT_LIMIT", 59)
    assert "More than 59 loans" in client.get("/staff/lending").get_data(as_text=True)
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert listed_loans(second) == list(reversed(made))[50:]
    assert 'rel="next"' not in second


BAD_FILTERS = [
    ({"date_from": "2026-11-20", "date_to": "2026-11-01"}, "The end date is before the start"),
    ({"date_from": "20.11.2026"}, "Not a valid date value"),
    ({"status": "stolen"}, "Not a valid choice"),
    ({"tool_type": "9999"}, "Not a valid choice"),
    ({"resident": "x" * 61}, "at most 60 characters"),
]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        *BAD_FILTERS,
        ({"before": "abc"}, "That page no longer exists"),
        ({"before": "999999"}, "That page no longer exists"),
    ],
)
def test_bad_filters_are_refused_with_a_message(
    client: FlaskClient, english: StaffActions, args: dict[str, str], message: str
) -> None:
    response = client.get("/staff/lending", query_string=args)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_the_filter_form_is_drawn_anew_for_a_renamed_tool_what_was_typed_and_a_refusal(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    # The drawn form is remembered (kiosk/staff/lending/pages.py): it must never show an
    # earlier request's tools, values or messages.
    assert "Electric drill" in client.get("/staff/lending").get_data(as_text=True)
    with app.app_context(), database().write() as session:
        for drill in session.scalars(select(ToolType).where(ToolType.code == "drill")):
            drill.name_en = "Hammer drill"
    renamed = client.get("/staff/lending").get_data(as_text=True)
    assert "Hammer drill" in renamed and "Electric drill" not in renamed

    typed = client.get("/staff/lending", query_string={"resident": "张"}).get_data(as_text=True)
    assert 'value="张"' in typed
    refused = client.get("/staff/lending", query_string={"status": "stolen"})
    assert "Not a valid choice" in refused.get_data(as_text=True)
    plain = client.get("/staff/lending").get_data(as_text=True)
    assert 'value="张"' not in plain and "Not a valid choice" not in plain


@pytest.mark.parametrize(("args", "message"), BAD_FILTERS)
def test_an_export_of_a_bad_filter_is_refused(
    client: FlaskClient, english: StaffActions, args: dict[str, str], message: str
) -> None:
    assert client.get("/staff/lending/records.csv", query_string=args).status_code == 400


# --- CSV --------------------------------------------------------------------------------------


def test_the_csv_opens_in_excel_with_chinese_text_crlf_and_no_formulas(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    with app.app_context(), database().write() as session:
        site_id = session.scalar(select(Site.id).where(Site.slug == "xinhua"))
        residents.register_resident(
            session, site_id=site_id, name="=HYPERLINK(1)", phone="13700000009", pin="275139",
            now=clock.now(),
        )  # fmt: skip
    lend(app, clock, "XINHUA-CART-001", "13700000009", ago=timedelta(hours=2))
    lend(app, clock, "XINHUA-CART-002", "13800000001", ago=timedelta(hours=1))
    response = client.get("/staff/lending/records.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="lending-')
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][:3] == ["Loan", "Borrowed", "Due"]
    assert [row[9] for row in rows[1:]] == ["王秀英", "'=HYPERLINK(1)"]
    assert rows[1][7] == "拖板车 Drag cart"
    assert rows[1][1] == (clock.now() - timedelta(hours=1)).astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")
    ).strftime("%Y-%m-%d %H:%M")


def test_the_csv_follows_the_current_filter(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=2))
    lend(app, clock, "XINHUA-CART-002", "13800000002", ago=timedelta(hours=1))
    page = client.get("/staff/lending", query_string={"resident": "李"}).get_data(as_text=True)
    link = re.search(r'href="(/staff/lending/records\.csv[^"]*)"', page)
    assert link is not None
    text = client.get(link.group(1).replace("&amp;", "&")).get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [row[9] for row in rows[1:]] == ["李建国"]


def test_a_full_asset_tag_in_the_filter_links_to_the_items_page(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    page = client.get("/staff/lending", query_string={"item": "xinhua-cart-002"})
    link = f'href="/staff/lending/items/{item_id(app, "XINHUA-CART-002")}" id="exact-item"'
    assert link in page.get_data(as_text=True)
    partial = client.get("/staff/lending", query_string={"item": "CART"})
    assert 'id="exact-item"' not in partial.get_data(as_text=True)


def test_every_lending_action_and_status_has_words_for_the_console() -> None:
    from kiosk.staff.lending import words as lending_words

    assert set(lending_words.ACTION) == set(LendingAction)
    assert set(lending_words.LOAN_STATUS) == set(LoanStatus)
    assert set(lending_words.ITEM_STATUS) == set(ItemStatus)


# --- item and resident pages ------------------------------------------------------------------


def test_the_item_page_shows_its_loans_and_append_only_history(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    loan_id = lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=2))
    page = client.get(f"/staff/lending/items/{item_id(app, 'XINHUA-CART-001')}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert listed_loans(text) == [loan_id]
    assert 'data-event="lent"' in text and "<td>zhao</td>" in text  # staff by username
    assert "On loan to 王秀英" in text and "Take back" in text


def test_the_resident_page_shows_their_loans_and_history(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    mine = lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=2))
    lend(app, clock, "XINHUA-CART-002", "13800000002", ago=timedelta(hours=1))
    page = client.get(f"/staff/lending/residents/{resident_id(app, '13800000001')}")
    text = page.get_data(as_text=True)
    assert listed_loans(text) == [mine]
    assert 'data-event="lent"' in text


def test_items_and_residents_of_another_centre_are_not_found(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    with app.app_context(), database().write() as session:
        other = Site(slug="other", name_zh="别的中心", name_en="Other")
        session.add(other)
        session.flush()
        tool = ToolType(site_id=other.id, code="x", name_zh="x", name_en="x")
        session.add(tool)
        session.flush()
        item = Item(site_id=other.id, tool_type_id=tool.id, asset_tag="OTHER-1")
        stranger = residents.register_resident(
            session,
            site_id=other.id,
            name="外人",
            phone="13600000000",
            pin="275139",
            now=clock.now(),
        )
        session.add(item)
        session.flush()
        ids = item.id, stranger.id
    assert client.get(f"/staff/lending/items/{ids[0]}").status_code == 404
    assert client.get(f"/staff/lending/residents/{ids[1]}").status_code == 404


# --- counter lending --------------------------------------------------------------------------


def post(client: FlaskClient, staff: StaffActions, url: str, **data: str) -> Any:
    return client.post(url, data={**data, "csrf_token": staff.csrf_token()})


def test_staff_lend_a_counter_item_to_a_resident_by_phone(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    cart = item_id(app, "XINHUA-CART-001")
    response = post(client, english, f"/staff/lending/items/{cart}/lend", resident="138 0000 0002")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "XINHUA-CART-001 lent to 李建国, due back" in page
    with app.app_context(), database().read() as session:
        loan = session.scalars(select(Loan).where(Loan.item_id == cart)).one()
        assert loan.status is LoanStatus.ACTIVE and loan.channel.value == "counter"
        assert session.get_one(Item, cart).status is ItemStatus.ON_LOAN
        event = session.scalars(select(LendingEvent).where(LendingEvent.loan_id == loan.id)).one()
        assert (event.action, event.actor) == (LendingAction.LENT, "staff:zhao")
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "lending.lent"))


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("13999999999", "No resident of this centre has that phone number."),
        ("", "enter the resident&#39;s phone"),
    ],
)
def test_lending_to_an_unknown_phone_changes_nothing(
    app: Flask, client: FlaskClient, english: StaffActions, phone: str, message: str
) -> None:
    cart = item_id(app, "XINHUA-CART-001")
    response = post(client, english, f"/staff/lending/items/{cart}/lend", resident=phone)
    assert response.status_code in (400, 422)
    assert message in response.get_data(as_text=True)
    assert count(app, Loan) == 0 and count(app, LendingEvent) == 0


def test_the_borrowing_limit_holds_at_the_counter_too(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    for tag in ("XINHUA-CART-001", "XINHUA-CART-002", "XINHUA-LONG-LADDER-001"):
        lend(app, clock, tag, "13800000001", ago=timedelta(minutes=5))
    drill = item_id(app, "XINHUA-DRILL-001")
    response = post(client, english, f"/staff/lending/items/{drill}/lend", resident="13800000001")
    assert response.status_code == 409
    assert "already has the most items on loan" in response.get_data(as_text=True)
    assert count(app, Loan) == 3


def test_lending_without_a_csrf_token_is_refused(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    cart = item_id(app, "XINHUA-CART-001")
    response = client.post(f"/staff/lending/items/{cart}/lend", data={"resident": "13800000001"})
    assert response.status_code == 400
    assert count(app, Loan) == 0


def test_taking_an_item_back_in_fine_condition_makes_it_available(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    loan_id = lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=2))
    response = post(
        client, english, f"/staff/lending/loans/{loan_id}/return", condition="fine", back="counter"
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/counter")
    assert "is back and can be lent again" in client.get("/staff/lending/counter").get_data(
        as_text=True
    )
    with app.app_context(), database().read() as session:
        loan = session.get_one(Loan, loan_id)
        assert loan.status is LoanStatus.RETURNED and loan.returned_to_staff_id is not None
        assert session.get_one(Item, loan.item_id).status is ItemStatus.AVAILABLE


@pytest.mark.parametrize("condition", ["damaged", "parts_missing"])
def test_taking_back_a_damaged_or_incomplete_item_sends_it_to_maintenance_and_alerts_staff(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock, condition: str
) -> None:
    loan_id = lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=2))
    response = post(
        client, english, f"/staff/lending/loans/{loan_id}/return",
        condition=condition, note="wheel wobbles",
    )  # fmt: skip
    assert response.status_code == 303
    with app.app_context(), database().read() as session:
        loan = session.get_one(Loan, loan_id)
        assert session.get_one(Item, loan.item_id).status is ItemStatus.MAINTENANCE
        alert = session.scalars(
            select(StaffAlert).where(StaffAlert.status == AlertStatus.OPEN)
        ).one()
        assert alert.subject == f"item:{loan.item_id}"


@pytest.mark.parametrize("condition", ["", "broken"])
def test_a_return_without_a_known_condition_changes_nothing(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock, condition: str
) -> None:
    loan_id = lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=2))
    response = post(client, english, f"/staff/lending/loans/{loan_id}/return", condition=condition)
    assert response.status_code == 400
    with app.app_context(), database().read() as session:
        assert session.get_one(Loan, loan_id).status is LoanStatus.ACTIVE


def test_taking_back_twice_is_refused_plainly(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    loan_id = lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=2))
    post(client, english, f"/staff/lending/loans/{loan_id}/return", condition="fine")
    again = post(client, english, f"/staff/lending/loans/{loan_id}/return", condition="fine")
    assert again.status_code == 409
    assert "already been returned" in again.get_data(as_text=True)


def test_the_counter_page_lists_counter_items_with_lend_and_take_back_forms(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    lend(app, clock, "XINHUA-CART-001", "13800000001", ago=timedelta(hours=2))
    page = client.get("/staff/lending/counter").get_data(as_text=True)
    assert re.findall(r'data-item="([^"]+)"', page) == [
        "XINHUA-CART-001", "XINHUA-CART-002", "XINHUA-LONG-LADDER-001"
    ]  # fmt: skip
    assert page.count("Take back</button>") == 1 and page.count("Lend</button>") == 2


# --- maintenance open: refusals (the open itself is tested over a broker) ---------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_maintenance_open_without_a_reason_records_and_sends_nothing(
    app: Flask, client: FlaskClient, english: StaffActions, reason: str
) -> None:
    drill = item_id(app, "XINHUA-DRILL-001")
    response = post(
        client, english, f"/staff/lending/items/{drill}/maintenance-open", reason=reason
    )
    assert response.status_code == 400
    assert "say why it must open" in response.get_data(as_text=True)
    assert count(app, DeviceCommand) == 0 and count(app, LendingEvent) == 0
    assert count(app, AuditEntry, AuditEntry.action == "locker.opened_for_maintenance") == 0


def test_a_counter_item_has_no_compartment_to_open(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    cart = item_id(app, "XINHUA-CART-001")
    response = post(client, english, f"/staff/lending/items/{cart}/maintenance-open", reason="x")
    assert response.status_code == 409
    assert "kept at the counter" in response.get_data(as_text=True)
    assert count(app, DeviceCommand) == 0


def test_a_maintenance_open_of_an_unregistered_locker_records_nothing(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    # The demo seed puts items in locker-a but registers no device (linli demo does).
    drill = item_id(app, "XINHUA-DRILL-001")
    response = post(
        client, english, f"/staff/lending/items/{drill}/maintenance-open", reason="clean it"
    )
    assert response.status_code == 409
    assert count(app, DeviceCommand) == 0 and count(app, LendingEvent) == 0
