"""``linli staff create|disable|enable|set-password``."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from booking.people import staff as staff_service
from kiosk.cli import main
from kiosk.extensions import database
from tests.conftest import STAFF_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")


def run(runner: FlaskCliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(main, ["staff", *args])
    return result.exit_code, result.output


def test_create_makes_an_account_that_can_sign_in(app: Flask, runner: FlaskCliRunner) -> None:
    code, output = run(
        runner,
        "create",
        "li.na",
        "--name",
        "李娜",
        "--role",
        "admin",
        "--password",
        "pw-0123456789",
    )
    assert code == 0, output
    assert "created admin li.na at xinhua" in output
    assert StaffActions(app.test_client()).sign_in("li.na", "pw-0123456789").status_code == 302


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["create", "zhao", "--name", "x", "--password", "pw-0123456789"],
            "this username is taken",
        ),
        (["create", "A B", "--name", "x", "--password", "pw-0123456789"], "username must be"),
        (["create", "new1", "--name", "x", "--password", "short"], "password must be 10 to 200"),
        (
            ["create", "new2", "--name", "x", "--site", "nowhere", "--password", "pw-0123456789"],
            "no site 'nowhere'",
        ),
        (
            ["create", "new3", "--name", "x", "--role", "boss", "--password", "pw-0123456789"],
            "'boss' is not one of",
        ),
        (["disable", "nobody"], "no staff account 'nobody'"),
        (["set-password", "zhao", "--password", "short"], "password must be 10 to 200"),
    ],
)
def test_bad_staff_commands_say_why_and_change_nothing(
    app: Flask, runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    code, output = run(runner, *args)
    assert code != 0
    assert message in output
    assert StaffActions(app.test_client()).sign_in("zhao", STAFF_PASSWORD).status_code == 302


def test_disable_ends_the_sessions_and_enable_lets_the_account_back(
    app: Flask, runner: FlaskCliRunner
) -> None:
    client = app.test_client()
    StaffActions(client).sign_in()
    assert run(runner, "disable", "zhao")[0] == 0
    assert client.get("/staff/").status_code == 302
    assert StaffActions(app.test_client()).sign_in().status_code == 401
    assert run(runner, "enable", "zhao")[0] == 0
    assert StaffActions(app.test_client()).sign_in().status_code == 302


def test_set_password_ends_the_sessions_and_replaces_the_password(
    app: Flask, runner: FlaskCliRunner
) -> None:
    client = app.test_client()
    StaffActions(client).sign_in()
    assert run(runner, "set-password", "zhao", "--password", "fresh-password-1")[0] == 0
    assert client.get("/staff/").status_code == 302
    assert StaffActions(app.test_client()).sign_in().status_code == 401
    assert StaffActions(app.test_client()).sign_in("zhao", "fresh-password-1").status_code == 302
    with app.app_context(), database().read() as session:
        assert staff_service.get_staff_by_username(session, "zhao").is_active
