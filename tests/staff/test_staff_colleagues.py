"""The staff accounts page, for a centre's admin in Chinese: add a colleague who then signs
in, set a forgotten password, disable a leaver (signed out at once) and let them back; no
button for the admin's own account or a district admin's, and a worker sees none of it."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.people.models.staff import StaffAccount
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")

NEW_PASSWORD = "liming-first-2026"


def staff_id(app: Flask, username: str) -> int:
    with app.app_context(), database().read() as session:
        return session.scalars(
            select(StaffAccount.id).where(StaffAccount.username == username)
        ).one()


def post(client: FlaskClient, staff: StaffActions, url: str, **data: str) -> object:
    return client.post(url, data={"csrf_token": staff.csrf_token(), **data})


@pytest.fixture
def admin(client: FlaskClient, staff_auth: StaffActions) -> StaffActions:
    assert staff_auth.sign_in("admin", ADMIN_PASSWORD).status_code == 302
    return staff_auth


def test_an_admin_adds_a_colleague_who_then_signs_in(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    page = client.get("/staff/accounts").get_data(as_text=True)
    assert "添加同事" in page
    added = post(client, admin, "/staff/accounts/add", username="liming", display_name="李明",
                 password=NEW_PASSWORD, confirm=NEW_PASSWORD)  # fmt: skip
    assert added.status_code == 303  # type: ignore[attr-defined]
    assert "李明 现在可以用 liming 登录了" in client.get("/staff/accounts").get_data(as_text=True)
    newcomer = StaffActions(app.test_client())
    assert newcomer.sign_in("liming", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"username": "zhao"}, 409, "这个用户名已被使用"),
        ({"username": "li ming"}, 400, "3 到 40 个字母"),
        ({"confirm": "something-else-2026"}, 400, "两次输入的密码不一样"),
        ({"password": "short", "confirm": "short"}, 400, "密码要有"),
    ],
)
def test_a_colleague_is_not_added_with_a_taken_or_bad_name_or_password(
    app: Flask, client: FlaskClient, admin: StaffActions, fields: dict[str, str], status: int,
    words: str,
) -> None:  # fmt: skip
    data = {"username": "liming", "display_name": "李明", "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD, **fields}  # fmt: skip
    response = post(client, admin, "/staff/accounts/add", **data)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert words in response.get_data(as_text=True)  # type: ignore[attr-defined]
    with app.app_context(), database().read() as session:
        assert (
            session.scalars(select(StaffAccount).where(StaffAccount.display_name == "李明")).all()
            == []
        )


def test_a_disabled_leaver_is_signed_out_at_once_and_let_back_later(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    leaver = StaffActions(app.test_client())
    leaver.sign_in()
    assert leaver._client.get("/staff/").status_code == 200
    zhao = staff_id(app, "zhao")
    assert post(client, admin, f"/staff/accounts/{zhao}/disable").status_code == 303  # type: ignore[attr-defined]
    assert leaver._client.get("/staff/").status_code == 302  # signed out
    assert StaffActions(app.test_client()).sign_in().status_code != 302
    assert post(client, admin, f"/staff/accounts/{zhao}/enable").status_code == 303  # type: ignore[attr-defined]
    assert StaffActions(app.test_client()).sign_in().status_code == 302


def test_a_forgotten_password_is_set_by_an_admin(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    zhao = staff_id(app, "zhao")
    form = client.get(f"/staff/accounts/{zhao}/password").get_data(as_text=True)
    assert "为 赵敏 (社区工作者) 设置新密码" in form
    saved = post(client, admin, f"/staff/accounts/{zhao}/password", password=NEW_PASSWORD,
                 confirm=NEW_PASSWORD)  # fmt: skip
    assert saved.status_code == 303  # type: ignore[attr-defined]
    assert StaffActions(app.test_client()).sign_in("zhao", NEW_PASSWORD).status_code == 302


def test_no_button_for_the_admins_own_account_and_the_service_refuses_it_too(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    me = staff_id(app, "admin")
    page = client.get("/staff/accounts").get_data(as_text=True)
    assert f"/staff/accounts/{me}/disable" not in page
    assert f"/staff/accounts/{staff_id(app, 'zhao')}/disable" in page
    post(client, admin, f"/staff/accounts/{me}/disable")
    assert "您自己的账号" in client.get("/staff/accounts").get_data(as_text=True)
    with app.app_context(), database().read() as session:
        assert session.get_one(StaffAccount, me).is_active


def test_a_worker_who_is_not_an_admin_changes_no_account(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    admin_id = staff_id(app, "admin")
    for url in ("/staff/accounts/add", f"/staff/accounts/{admin_id}/disable",
                f"/staff/accounts/{admin_id}/password"):  # fmt: skip
        assert post(client, staff_auth, url, password=NEW_PASSWORD, confirm=NEW_PASSWORD,
                    username="sneaky", display_name="x").status_code == 403  # type: ignore[attr-defined]  # fmt: skip
    with app.app_context(), database().read() as session:
        assert session.get_one(StaffAccount, admin_id).is_active
        assert not re.search("sneaky", " ".join(session.scalars(select(StaffAccount.username))))
