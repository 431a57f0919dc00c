"""The console's locker checks: every disagreement between a locker's full state and the
lending records, listed in Chinese first, each resolved with a required note that the audit
keeps, and the history of what became of them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.lending import operations as lending
from booking.lending import reconciliation as lending_reconciliation
from booking.lending.models.loans import Loan, LoanStatus
from booking.lending.models.mismatches import LendingMismatch, MismatchKind
from booking.lending.models.tools import Item, ItemStatus
from booking.lending.reconciliation import CompartmentReport
from booking.people.models.residents import Resident
from booking.people.models.staff import StaffAccount
from devices.models.commands import DeviceCommand
from devices.models.device import Device, DeviceKind
from kiosk.extensions import database
from tests.conftest import StaffActions

pytestmark = pytest.mark.usefixtures("demo")

PAGE = "/staff/lending/checks"
DRILL_1, DRILL_2 = "XINHUA-DRILL-001", "XINHUA-DRILL-002"  # locker-a compartments 1 and 2


@pytest.fixture
def english(client: FlaskClient, staff_auth: StaffActions) -> StaffActions:
    assert staff_auth.sign_in().status_code == 302
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


def locker_a_reports(app: Flask, clock: FrozenClock, *, absent: tuple[int, ...] = ()) -> None:
    """locker-a's full state: all 8 compartments shut, each holding its tool unless ``absent``."""
    with app.app_context(), database().write() as session:
        site_id = session.scalars(select(Site.id)).one()
        lending_reconciliation.reconcile(
            session, site_id=site_id, device_id="locker-a",
            reports=[CompartmentReport(n, n not in absent, True) for n in range(1, 9)],
            now=clock.now(),
        )  # fmt: skip


def lend_drill_1(app: Flask, clock: FrozenClock) -> int:
    with app.app_context(), database().write() as session:
        staff = session.scalars(select(StaffAccount).where(StaffAccount.username == "zhao")).one()
        drill = session.scalars(select(Item).where(Item.asset_tag == DRILL_1)).one()
        resident = session.scalars(select(Resident).where(Resident.phone == "13800000001")).one()
        return lending.lend_at_counter(
            session, staff=staff, item_id=drill.id, resident_id=resident.id, now=clock.now()
        ).id


def mismatch_of(app: Flask, tag: str) -> LendingMismatch:
    with app.app_context(), database().read() as session:
        found = session.scalars(
            select(LendingMismatch)
            .join(Item, Item.id == LendingMismatch.item_id)
            .where(Item.asset_tag == tag)
            .order_by(LendingMismatch.id.desc())
        ).first()
        assert found is not None
        session.expunge(found)
        return found


def status_of(app: Flask, tag: str) -> ItemStatus:
    with app.app_context(), database().read() as session:
        return session.scalars(select(Item.status).where(Item.asset_tag == tag)).one()


def post(
    client: FlaskClient, auth: StaffActions, mismatch_id: int, **fields: str
) -> tuple[int, str]:
    data = {f"m{mismatch_id}-{name}": value for name, value in fields.items()}
    data["csrf_token"] = auth.csrf_token()
    response = client.post(f"{PAGE}/{mismatch_id}/resolve", data=data)
    return response.status_code, response.get_data(as_text=True)


def open_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="mismatch [^"]*" id="mismatch-(\d+)"', page)]


def test_the_page_lists_each_mismatch_in_chinese_first(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    lend_drill_1(app, clock)
    locker_a_reports(app, clock, absent=(2,))
    staff_auth.sign_in()
    page = client.get(PAGE).get_data(as_text=True)
    present, absent = mismatch_of(app, DRILL_1), mismatch_of(app, DRILL_2)
    assert open_ids(page) == [present.id, absent.id]
    assert "工具柜核对" in page and "未办归还却已放回？" in page and "柜格里不见了" in page
    assert "locker-a，1 号柜格" in page and "王秀英" in page
    assert "在服务台把这次借用登记为已归还" in page and "把工具登记为遗失" in page
    # Each card offers only the answers of its kind.
    card = page[page.index(f'id="mismatch-{absent.id}"') :]
    card = card[: card.index("</li>")]
    assert 'value="found"' in card and 'value="returned"' not in card


def test_the_lending_pages_link_to_the_checks(client: FlaskClient, english: StaffActions) -> None:
    page = client.get("/staff/lending").get_data(as_text=True)
    assert f'<a href="{PAGE}">Locker checks</a>' in page


def test_a_resolution_without_a_note_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    locker_a_reports(app, clock, absent=(2,))
    m = mismatch_of(app, DRILL_2)
    status, page = post(client, english, m.id, resolution="lost", note="  ")
    assert status == 400
    assert "Say what you checked and did." in page
    assert mismatch_of(app, DRILL_2).is_open and status_of(app, DRILL_2) is ItemStatus.MISSING


def test_staff_confirm_a_tool_back_and_its_loan_ends_with_their_name_and_note(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    loan_id = lend_drill_1(app, clock)
    locker_a_reports(app, clock)
    m = mismatch_of(app, DRILL_1)
    assert m.kind is MismatchKind.PRESENT_DURING_LOAN
    clock.advance(timedelta(minutes=10))
    status, _page = post(client, english, m.id, resolution="returned", condition="fine",
                         note="drill found in compartment 1")  # fmt: skip
    assert status == 303
    with app.app_context(), database().read() as session:
        assert session.get_one(Loan, loan_id).status is LoanStatus.RETURNED
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "lending.mismatch_resolved")
        ).one()
        assert (
            entry.actor == "staff:zhao" and entry.detail["note"] == "drill found in compartment 1"
        )
    assert status_of(app, DRILL_1) is ItemStatus.AVAILABLE
    page = client.get(PAGE).get_data(as_text=True)
    assert open_ids(page) == [] and "Every locker agrees with the records." in page
    row = page[page.index(f'data-mismatch="{m.id}"') :]
    assert "Loan ended: returned at the counter" in row and "drill found in compartment 1" in row


def test_staff_who_cannot_find_a_tool_mark_it_lost(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    locker_a_reports(app, clock, absent=(2,))
    m = mismatch_of(app, DRILL_2)
    status, _page = post(client, english, m.id, resolution="lost", note="searched; gone")
    assert status == 303
    assert status_of(app, DRILL_2) is ItemStatus.LOST
    with app.app_context(), database().read() as session:
        alert = session.get_one(StaffAlert, m.alert_id)
        assert alert.status.value == "resolved" and "searched; gone" in alert.note


def test_an_answer_of_the_other_kind_is_refused(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    locker_a_reports(app, clock, absent=(2,))
    m = mismatch_of(app, DRILL_2)
    status, _page = post(client, english, m.id, resolution="returned", note="it is back")
    assert status == 400
    assert mismatch_of(app, DRILL_2).is_open


def test_a_check_already_resolved_says_so_and_changes_nothing(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    locker_a_reports(app, clock, absent=(2,))
    m = mismatch_of(app, DRILL_2)
    locker_a_reports(app, clock)  # the tool is back before staff got there
    status, _page = post(client, english, m.id, resolution="lost", note="gone")
    assert status == 303
    page = client.get(PAGE).get_data(as_text=True)
    assert "This was already resolved" in page
    assert status_of(app, DRILL_2) is ItemStatus.AVAILABLE
    row = page[page.index(f'data-mismatch="{m.id}"') :]
    assert "The locker agreed again by itself" in row


def test_an_unknown_check_is_not_found(client: FlaskClient, english: StaffActions) -> None:
    status, _page = post(client, english, 999, resolution="lost", note="x")
    assert status == 404


def test_the_alert_links_to_its_check(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    lend_drill_1(app, clock)
    locker_a_reports(app, clock)
    m = mismatch_of(app, DRILL_1)
    inbox = client.get("/staff/alerts").get_data(as_text=True)
    assert "Returned without a return?" in inbox
    assert f'href="{PAGE}#mismatch-{m.id}"' in inbox


def test_a_missing_tool_s_page_says_so_and_links_to_the_checks(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    locker_a_reports(app, clock, absent=(2,))
    with app.app_context(), database().read() as session:
        drill = session.scalars(select(Item.id).where(Item.asset_tag == DRILL_2)).one()
    page = client.get(f"/staff/lending/items/{drill}").get_data(as_text=True)
    assert "Missing" in page and "it is not offered until someone resolves it" in page
    assert f'href="{PAGE}"' in page


def register_lockers(app: Flask, clock: FrozenClock, *, online: tuple[str, ...]) -> None:
    """The demo's two lockers in the device registry, those named ``online`` online."""
    with app.app_context(), database().write() as session:
        site_id = session.scalars(select(Site.id)).one()
        for device_id in ("locker-a", "locker-b"):
            session.add(
                Device(
                    site_id=site_id,
                    device_id=device_id,
                    kind=DeviceKind.LOCKER,
                    mqtt_password_hash="$7$unused",
                    online=device_id in online,
                    created_at=clock.now(),
                )  # fmt: skip
            )


def test_staff_can_ask_the_online_lockers_for_their_state_now(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    register_lockers(app, clock, online=("locker-a",))
    response = client.post(f"{PAGE}/ask", data={"csrf_token": english.csrf_token()})
    assert response.status_code == 303
    with app.app_context(), database().read() as session:
        asked = session.scalars(select(DeviceCommand).where(DeviceCommand.name == "status")).all()
        assert [c.device_id for c in asked] == ["locker-a"]
        assert asked[0].requested_by == "staff:zhao: locker check"
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "lending.locker_check_requested")
        ).one()
        assert entry.detail == {"lockers": ["locker-a"]}
    assert "Asked locker-a" in client.get(PAGE).get_data(as_text=True)


def test_with_no_locker_online_nothing_is_asked_and_staff_are_told(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    register_lockers(app, clock, online=())
    response = client.post(f"{PAGE}/ask", data={"csrf_token": english.csrf_token()})
    assert response.status_code == 303
    assert "No locker is online to ask now." in client.get(PAGE).get_data(as_text=True)
    with app.app_context(), database().read() as session:
        assert session.scalars(select(DeviceCommand)).all() == []


def test_asking_the_lockers_needs_the_page_s_token(
    client: FlaskClient, english: StaffActions
) -> None:
    assert client.post(f"{PAGE}/ask", data={}).status_code == 400


def test_an_alert_about_an_item_links_to_its_page(
    app: Flask, client: FlaskClient, english: StaffActions, clock: FrozenClock
) -> None:
    with app.app_context(), database().write() as session:
        drill = session.scalars(select(Item).where(Item.asset_tag == DRILL_2)).one()
        alerts.raise_alert(
            session, site_id=drill.site_id, kind="lending.item_missing",
            severity=AlertSeverity.URGENT, summary="taken", now=clock.now(),
            subject=f"item:{drill.id}", dedupe_key=f"lending:missing:item:{drill.id}",
        )  # fmt: skip
        drill_id = drill.id
    inbox = client.get("/staff/alerts").get_data(as_text=True)
    assert f'href="/staff/lending/items/{drill_id}"' in inbox
