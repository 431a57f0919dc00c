"""The roster in the console: an admin uploads a file, reads every rejected row and why in
Chinese, confirms, and exactly the checked rows are imported; slips carry working one-time
codes; the export reads back in; a bad file is a clear 400, never a 500."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people import one_time_codes
from booking.people.enrolment import EnrolmentDetails, enrol_resident
from booking.people.models.residents import Resident
from booking.people.roster import reading
from kiosk.extensions import database
from kiosk.staff.people import roster_uploads
from tests.conftest import ADMIN_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")

HEADER = ["姓名", "手机号", "出生年份", "楼栋", "单元", "房号", "独居"]
GOOD = [["周大福", "13700000001", 1950, "7栋", "1单元", "101", "是"],
        ["吴小美", "13700000002", 1988, "7栋", "1单元", "102", "否"]]  # fmt: skip
BAD = [["", "13700000003", 1950, "7栋", "1单元", "103", ""],  # row 4: no name
       ["郑一", "12345", 1950, "7栋", "1单元", "104", ""],  # row 5: bad phone
       ["周大福", "13700000001", 1950, "7栋", "1单元", "101", "是"],  # row 6: row 2 again
       ["王秀英", "13800000001", 1950, "", "", "", ""]]  # row 7: a demo resident already  # fmt: skip


def xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def admin(staff_auth: StaffActions) -> StaffActions:
    assert staff_auth.sign_in("admin", ADMIN_PASSWORD).status_code == 302
    return staff_auth


def upload(client: FlaskClient, auth: StaffActions, data: bytes, name: str = "花名册.xlsx") -> str:
    response = client.post(
        "/staff/residents/roster/check",
        data={"csrf_token": auth.csrf_token(), "roster": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    return f"{response.status_code}\n" + response.get_data(as_text=True)


def confirm_path(page: str) -> str:
    match = re.search(r'action="(/staff/residents/roster/[^/"]+/confirm)"', page)
    assert match, "no confirm form on the report"
    return match.group(1)


def residents(app: Flask) -> int:
    with app.app_context(), database().read() as session:
        return int(session.scalar(select(func.count(Resident.id))) or 0)


def test_only_admins_reach_the_roster(client: FlaskClient, staff_auth: StaffActions) -> None:
    staff_auth.sign_in()
    for path in ("/staff/residents/roster", "/staff/residents/roster.csv"):
        assert client.get(path).status_code == 403
    assert "居民花名册" not in client.get("/staff/residents").get_data(as_text=True)


def test_the_dry_run_names_every_bad_row_in_chinese_and_writes_nothing(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    before = residents(app)
    page = upload(client, admin, xlsx([HEADER, *GOOD, *BAD]))
    assert page.startswith("200")
    assert "2 行可以导入" in page and "4 行将被拒绝" in page
    for number, reason in (
        (4, "姓名缺失。"),
        (5, "手机号不是11位的中国大陆手机号码。"),
        (6, "与第 2 行的手机号和姓名相同。"),
        (7, "该手机号已是本中心的居民。"),
    ):
        row = re.search(rf'<tr id="row-{number}">(.*?)</tr>', page, re.S)
        assert row and reason in row.group(1), (number, reason)
    assert residents(app) == before
    kept = list((Path(app.instance_path) / roster_uploads.FOLDER).glob("*.bin"))
    assert len(kept) == 1 and oct(kept[0].stat().st_mode & 0o777) == "0o600"


def test_confirming_imports_exactly_the_checked_rows_and_forgets_the_file(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    before = residents(app)
    page = upload(client, admin, xlsx([HEADER, *GOOD, *BAD]))
    response = client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    assert response.status_code == 303
    assert "已导入 2 位居民。" in client.get(response.location).get_data(as_text=True)
    assert residents(app) == before + 2
    with app.app_context(), database().read() as session:
        zhou = session.scalars(select(Resident).where(Resident.phone == "13700000001")).one()
        assert (zhou.name, zhou.address, zhou.lives_alone, zhou.pin_hash) == (
            "周大福", "7栋 1单元 101", True, None)  # fmt: skip
        assert session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "resident.roster_imported")) == 1  # fmt: skip
    assert not list((Path(app.instance_path) / roster_uploads.FOLDER).iterdir())
    # The same confirmation again finds no file: nothing is imported twice.
    again = client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    assert again.status_code == 303 and residents(app) == before + 2


def test_a_roster_changed_by_an_enrolment_meanwhile_is_not_imported_but_shown_again(
    app: Flask, client: FlaskClient, admin: StaffActions, clock: FrozenClock
) -> None:
    page = upload(client, admin, xlsx([HEADER, *GOOD]))
    with app.app_context(), database().write() as session:
        site_id = session.scalars(select(Site.id)).first()
        assert site_id is not None
        enrol_resident(session, site_id=site_id, now=clock.now(), actor="staff:zhao",
                       details=EnrolmentDetails(name="吴小美", phone="13700000002"))  # fmt: skip
    before = residents(app)
    response = client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "什么也没有导入" in text
    assert residents(app) == before
    assert '<tr id="row-3">' in text and "1 行可以导入" in text
    # Confirming the new report imports its one row.
    assert (
        client.post(confirm_path(text), data={"csrf_token": admin.csrf_token()}).status_code == 303
    )
    assert residents(app) == before + 1


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.csv", "文件是空的。"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "photo.png", "这不是 CSV 或 Excel（.xlsx）文件。"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "old.xls", "另存为不设密码的 .xlsx"),
        ("名字\n王".encode(), "roster.csv", "前 10 行中没有找到"),
        (b"PK\x03\x04broken", "roster.xlsx", "Excel 文件已损坏"),
    ],
    ids=["empty", "png", "xls", "no header", "broken xlsx"],
)
def test_a_file_that_is_no_roster_is_a_clear_400(
    app: Flask, client: FlaskClient, admin: StaffActions, data: bytes, name: str, message: str
) -> None:
    page = upload(client, admin, data, name)
    assert page.startswith("400") and message in page


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    client: FlaskClient, admin: StaffActions
) -> None:
    # The body built by hand: the test client would spool a file this big to a temporary
    # file of its own, which nothing reads or closes when the upload is refused.
    boundary = "roster-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{admin.csrf_token()}\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="roster"; filename="big.csv"\r\n\r\n'
        ).encode()
        + b"x" * (reading.MAX_FILE_BYTES + 128 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post("/staff/residents/roster/check", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")  # fmt: skip
    assert response.status_code == 303
    assert "文件太大：最大 8 MB。" in client.get(response.location).get_data(as_text=True)


def test_no_file_at_all_asks_for_one(client: FlaskClient, admin: StaffActions) -> None:
    response = client.post("/staff/residents/roster/check",
                           data={"csrf_token": admin.csrf_token()})  # fmt: skip
    assert response.status_code == 400 and "请选择花名册文件。" in response.get_data(as_text=True)


def test_slips_carry_codes_that_open_the_pin_choice_and_are_printed_once(
    app: Flask, client: FlaskClient, admin: StaffActions, clock: FrozenClock
) -> None:
    page = upload(client, admin, xlsx([HEADER, *GOOD]))
    client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    roster_page = client.get("/staff/residents/roster").get_data(as_text=True)
    assert "2 位居民还没有密码" in roster_page and 'value="7栋"' in roster_page
    slips = client.post("/staff/residents/roster/slips",
                        data={"csrf_token": admin.csrf_token(), "building": "7栋", "count": "5"})  # fmt: skip
    text = slips.get_data(as_text=True)
    # As the desk's slip: the name half hidden, the phone by its last four digits.
    assert slips.status_code == 200 and "周*福" in text and "吴*美" in text and "0001" in text
    codes = re.findall(r'class="slip-code"[^>]*>(\d{4} \d{4})<', text)
    assert len(codes) == 2
    with app.app_context(), database().write() as session:
        site_id = session.scalars(select(Site.id)).first()
        row = one_time_codes.check_code(session, site_id=site_id or 0, phone="13700000001",
                                        code=codes[0], now=clock.now(), client="test")  # fmt: skip
        assert row.resident_id is not None
    # Both have a live code now: a second page prints no new one, voiding none.
    again = client.post("/staff/residents/roster/slips",
                        data={"csrf_token": admin.csrf_token(), "building": "*", "count": "5"})  # fmt: skip
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and "没有居民在等纸条。" in text and "slip-code" not in text
    assert "每位居民都已有密码或仍有效的纸条" in client.get("/staff/residents/roster").get_data(
        as_text=True)  # fmt: skip


@pytest.mark.parametrize("count", ["0", "49", "lots"])
def test_a_slip_count_out_of_range_is_refused(
    client: FlaskClient, admin: StaffActions, count: str
) -> None:
    page = upload(client, admin, xlsx([HEADER, *GOOD]))
    client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    response = client.post("/staff/residents/roster/slips",
                           data={"csrf_token": admin.csrf_token(), "building": "*", "count": count})  # fmt: skip
    assert response.status_code == 400


def test_the_export_reads_back_in_as_the_same_residents(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    page = upload(client, admin, xlsx([HEADER, *GOOD]))
    client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    total = residents(app)
    for suffix in ("csv", "xlsx"):
        exported = client.get(f"/staff/residents/roster.{suffix}")
        assert exported.status_code == 200
        sheet = reading.read_roster(exported.data)
        assert len(sheet.rows) == total
        zhou = next(row for row in sheet.rows if row.values["phone"] == "13700000001")
        assert zhou.values == {
            "name": "周大福", "phone": "13700000001", "birth_year": "1950", "building": "7栋",
            "unit": "1单元", "room": "101", "lives_alone": "是", "emergency_contact_name": "",
            "emergency_contact_phone": "", "preferred_language": "中文",
        }  # fmt: skip
        # Checked again here, every row is a resident already, and for no other reason.
        report = upload(client, admin, exported.data, f"roster.{suffix}")
        reasons = re.findall(r"<li>([^<]+?)(?: <a|</li>)", report.split("roster-rejected")[-1])
        assert len(reasons) == total and set(reasons) == {"该手机号已是本中心的居民。"}


def test_a_name_that_is_a_formula_stays_text_in_both_exports(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    page = upload(client, admin, '姓名,手机号\n"=HYPERLINK(""x"")",13700000009\n'.encode())
    client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    csv_text = client.get("/staff/residents/roster.csv").get_data(as_text=True)
    assert '\'=HYPERLINK(""x"")' in csv_text
    workbook = load_workbook(io.BytesIO(client.get("/staff/residents/roster.xlsx").data))
    cells = [
        c for row in workbook.active.iter_rows() for c in row if c.value and "HYPER" in str(c.value)
    ]
    assert [(c.value, c.data_type) for c in cells] == [('=HYPERLINK("x")', "s")]


def test_a_checked_file_expires_after_two_hours_or_when_changed_on_disk(
    app: Flask, client: FlaskClient, admin: StaffActions, clock: FrozenClock
) -> None:
    before = residents(app)
    folder = Path(app.instance_path) / roster_uploads.FOLDER
    page = upload(client, admin, xlsx([HEADER, *GOOD]))
    next(folder.glob("*.bin")).write_bytes(xlsx([HEADER, *GOOD, ["改过", "13700000077"]]))
    response = client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    assert "检查过的文件已不在" in client.get(response.location).get_data(as_text=True)

    page = upload(client, admin, xlsx([HEADER, *GOOD]))
    clock.advance(roster_uploads.LIFETIME + timedelta(minutes=1))
    admin.sign_in("admin", ADMIN_PASSWORD)  # the console's own idle sign-out came first
    response = client.post(confirm_path(page), data={"csrf_token": admin.csrf_token()})
    assert "检查过的文件已不在" in client.get(response.location).get_data(as_text=True)
    assert residents(app) == before
    # The next upload sweeps away every file kept too long.
    upload(client, admin, xlsx([HEADER, *GOOD]))
    assert len(list(folder.glob("*.bin"))) == 1
