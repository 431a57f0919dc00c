"""Signing in and out of the staff console, and who may see which page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.core.clock import FrozenClock
from booking.people import staff as staff_service
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")

SIGN_IN = "/staff/sign-in"


def _anonymous_requests(app: Flask) -> list[tuple[str, str]]:
    """Every (method, url) of the console but sign-in and static files, from the URL map."""
    requests = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.split(".")[0] != "staff":
                continue
            if rule.endpoint in ("staff.sign_in", "staff.static"):
                continue
            url = rule.build({name: 1 for name in rule.arguments})[1]  # type: ignore[index]
            for method in sorted(rule.methods or ()):
                requests.append((method, url))
    return requests


def test_every_console_page_sends_anonymous_visitors_to_sign_in(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    requests = _anonymous_requests(app)
    assert len(requests) >= 10  # the walk found the console, not nothing
    token = staff_auth.csrf_token()
    for method, url in requests:
        # The CSRF token is sent so that the sign-in rule, not the CSRF check, answers posts.
        response = client.open(url, method=method, headers={"X-CSRFToken": token})
        assert response.status_code == 302, (method, url)
        assert response.location.startswith(SIGN_IN), (method, url)


def test_the_console_answers_with_the_right_password(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    response = staff_auth.sign_in()
    assert response.status_code == 302
    assert response.location == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "赵敏" in page.get_data(as_text=True)


# Messages as the console shows them by default (zh_CN; the English is the msgid).
@pytest.mark.parametrize(
    ("username", "password", "status", "message"),
    [
        ("zhao", "wrong-password-1", 401, "用户名或密码不正确。"),
        ("nobody", STAFF_PASSWORD, 401, "用户名或密码不正确。"),
        ("zhao", "", 400, "请输入密码。"),
        ("", STAFF_PASSWORD, 400, "请输入用户名。"),
        ("z" * 41, STAFF_PASSWORD, 400, "用户名或密码不正确。"),
    ],
)
def test_bad_sign_in_shows_a_message_and_sets_no_cookie(
    client: FlaskClient,
    staff_auth: StaffActions,
    username: str,
    password: str,
    status: int,
    message: str,
) -> None:
    response = staff_auth.sign_in(username, password)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert staff_auth.token() is None


def test_unknown_user_and_wrong_password_read_exactly_the_same(
    staff_auth: StaffActions,
) -> None:
    wrong_password = staff_auth.sign_in("zhao", "wrong-password-1").get_data(as_text=True)
    unknown_user = staff_auth.sign_in("nobody", "wrong-password-1").get_data(as_text=True)

    def without_tokens(page: str) -> str:
        import re

        return re.sub(r'(value|content)="[^"]*"', "", page)

    assert without_tokens(wrong_password) == without_tokens(unknown_user)


def test_sign_in_without_a_csrf_token_is_refused(client: FlaskClient) -> None:
    response = client.post(SIGN_IN, data={"username": "zhao", "password": STAFF_PASSWORD})
    assert response.status_code == 400
    assert client.get_cookie("linli_staff") is None


def test_the_staff_cookie_is_http_only_and_same_site_lax(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    cookie = client.get_cookie("linli_staff")
    assert cookie is not None
    assert cookie.http_only is True
    assert cookie.same_site == "Lax"
    assert not cookie.secure  # plain http in tests; see the TLS test below
    assert cookie.max_age is None  # ends with the browser


def test_the_staff_cookie_is_secure_when_served_over_tls(app: Flask) -> None:
    client = app.test_client()
    page = client.get("https://localhost/staff/sign-in").get_data(as_text=True)
    import re

    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert token
    response = client.post(
        "https://localhost/staff/sign-in",
        data={"username": "zhao", "password": STAFF_PASSWORD, "csrf_token": token.group(1)},
        headers={"Referer": "https://localhost/staff/sign-in"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_sign_out_ends_the_session_on_the_server(app: Flask, staff_auth: StaffActions) -> None:
    staff_auth.sign_in()
    old_token = staff_auth.token()
    assert old_token
    response = staff_auth.sign_out()
    assert response.status_code == 302
    # Another browser replaying the old cookie is refused.
    replay = app.test_client()
    replay.set_cookie("linli_staff", old_token)
    assert replay.get("/staff/").location.startswith(SIGN_IN)


def test_changing_the_password_signs_out_every_other_browser(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    other = app.test_client()
    StaffActions(other).sign_in()
    staff_auth.sign_in()
    response = client.post(
        "/staff/password",
        data={
            "current": STAFF_PASSWORD,
            "new": "a-brand-new-password",
            "confirm": "a-brand-new-password",
            "csrf_token": staff_auth.csrf_token(),
        },
    )
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200  # this browser got a fresh session
    assert other.get("/staff/").location.startswith(SIGN_IN)
    assert (
        StaffActions(app.test_client()).sign_in("zhao", "a-brand-new-password").status_code == 302
    )


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        (
            "wrong-password-1",
            "a-brand-new-password",
            "a-brand-new-password",
            "当前密码不正确。",
        ),
        (STAFF_PASSWORD, "short", "short", "新密码须为 10 到 200 个字符。"),
        (
            STAFF_PASSWORD,
            "a-brand-new-password",
            "something-else-1",
            "两次输入的新密码不一致。",
        ),
        ("", "a-brand-new-password", "a-brand-new-password", "请输入当前密码。"),
        (STAFF_PASSWORD, "", "", "请输入新密码。"),
    ],
)
def test_a_bad_password_change_shows_a_message_and_changes_nothing(
    app: Flask,
    client: FlaskClient,
    staff_auth: StaffActions,
    current: str,
    new: str,
    confirm: str,
    message: str,
) -> None:
    staff_auth.sign_in()
    response = client.post(
        "/staff/password",
        data={
            "current": current,
            "new": new,
            "confirm": confirm,
            "csrf_token": staff_auth.csrf_token(),
        },
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 200  # still signed in
    assert StaffActions(app.test_client()).sign_in().status_code == 302  # old password works


def test_disabling_an_account_ends_its_sessions(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    staff_auth.sign_in()
    with app.app_context(), database().write() as session:
        account = staff_service.get_staff_by_username(session, "zhao")
        staff_service.set_active(session, staff_id=account.id, active=False, now=clock.now())
    assert client.get("/staff/").location.startswith(SIGN_IN)


def test_thirty_idle_minutes_end_the_session(
    client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    staff_auth.sign_in()
    clock.advance(timedelta(minutes=29))
    assert client.get("/staff/").status_code == 200  # activity restarts the count
    clock.advance(timedelta(minutes=30, seconds=1))
    response = client.get("/staff/")
    assert response.location.startswith(SIGN_IN)
    assert client.get_cookie("linli_staff") is None  # the dead cookie is dropped


# What a page does by itself: the device board's refresh and the alerts inbox's stream.
BACKGROUND = {
    "the device board's refresh": ("/staff/devices", {"X-Linli-Background": "1"}),
    "the alerts stream": ("/staff/alerts/stream", {}),
}


@pytest.mark.parametrize(("path", "headers"), BACKGROUND.values(), ids=BACKGROUND.keys())
def test_a_page_refreshing_itself_does_not_keep_an_unattended_console_signed_in(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock,
    path: str, headers: dict[str, str],
) -> None:  # fmt: skip
    app.config.update(STAFF_ALERT_STREAM_SECONDS=0, STAFF_ALERT_POLL_SECONDS=0)
    staff_auth.sign_in()
    for _ in range(3):  # at 10, 20 and 29 minutes: still signed in, and not kept so
        clock.advance(timedelta(minutes=10) if _ < 2 else timedelta(minutes=9))
        assert client.get(path, headers=headers).status_code == 200
    clock.advance(timedelta(minutes=1, seconds=1))  # 30 min 1 s after the last person's act
    assert client.get(path, headers=headers).status_code == 302
    assert client.get("/staff/").location.startswith(SIGN_IN)


def test_a_persons_request_still_extends_the_session_between_refreshes(
    client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    staff_auth.sign_in()
    clock.advance(timedelta(minutes=20))
    assert client.get("/staff/devices", headers={"X-Linli-Background": "1"}).status_code == 200
    assert client.get("/staff/devices").status_code == 200  # someone opened the board
    clock.advance(timedelta(minutes=25))  # 45 min after sign-in, 25 after the person
    assert client.get("/staff/devices", headers={"X-Linli-Background": "1"}).status_code == 200


def test_sign_in_returns_to_the_page_asked_for(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    asked = client.get("/staff/residents?q=王")
    assert asked.location == "/staff/sign-in?next=/staff/residents?q%3D%E7%8E%8B"
    response = staff_auth.sign_in(next="/staff/residents?q=王")
    assert response.location == "/staff/residents?q=%E7%8E%8B"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/staff/",
        "//evil.example/staff/",
        "/\\evil.example",
        "\\\\evil.example",
        "/kiosk/",
        "/staffevil",
        "javascript:alert(1)",
        "/staff/\r\nLocation: https://evil.example",
    ],
)
def test_sign_in_never_redirects_off_the_console(staff_auth: StaffActions, next_url: str) -> None:
    response = staff_auth.sign_in(next=next_url)
    assert response.status_code == 302
    assert response.location == "/staff/"


def test_a_staff_cookie_signs_no_one_in_at_the_kiosk(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    page = client.get("/kiosk/", follow_redirects=True).get_data(as_text=True)
    assert "赵敏" not in page
    assert "Not signed in" in page or "未登录" in page


def test_staff_pages_are_never_cached(client: FlaskClient, staff_auth: StaffActions) -> None:
    assert "no-store" in client.get(SIGN_IN).headers["Cache-Control"]
    staff_auth.sign_in()
    assert "no-store" in client.get("/staff/residents").headers["Cache-Control"]


def test_only_admins_see_staff_accounts(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    assert client.get("/staff/accounts").status_code == 403
    assert "/staff/accounts" not in client.get("/staff/").get_data(as_text=True)
    admin = app.test_client()
    StaffActions(admin).sign_in("admin", ADMIN_PASSWORD)
    page = admin.get("/staff/accounts")
    assert page.status_code == 200
    assert "zhao" in page.get_data(as_text=True)


def test_the_overview_counts_what_the_centre_has(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    page = client.get("/staff/").get_data(as_text=True)
    # The demo centre: 5 residents, 2 staff, study room + 4 activity rooms, 19 tools.
    assert 'data-count="residents">5<' in page
    assert 'data-count="staff">2<' in page
    assert 'data-count="spaces">5<' in page
    assert 'data-count="items">19<' in page
    assert 'data-count="items-available">19<' in page
    assert 'data-count="items-on_loan">0<' in page


def test_the_console_speaks_chinese_first_and_english_on_request(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    assert "概览" in client.get("/staff/").get_data(as_text=True)
    response = client.post(
        "/staff/language",
        data={"locale": "en", "next": "/staff/residents", "csrf_token": staff_auth.csrf_token()},
    )
    assert response.location == "/staff/residents"
    page = client.get("/staff/").get_data(as_text=True)
    assert "Overview" in page and "概览" not in page


def test_an_unknown_language_is_refused(client: FlaskClient, staff_auth: StaffActions) -> None:
    staff_auth.sign_in()
    response = client.post(
        "/staff/language", data={"locale": "fr", "csrf_token": staff_auth.csrf_token()}
    )
    assert response.status_code == 400


def test_wrong_passwords_slow_the_client_that_typed_them_and_show_in_the_audit_log(
    app: Flask, client: FlaskClient, staff_auth: StaffActions
) -> None:
    client.environ_base["REMOTE_ADDR"] = "203.0.113.66"
    for _ in range(3):
        assert staff_auth.sign_in(password="not the password").status_code == 401
    fourth = staff_auth.sign_in()  # the right password, too soon after the third
    assert fourth.status_code == 429
    assert fourth.headers["Retry-After"] == "30"
    page = fourth.get_data(as_text=True)
    assert "请 30 秒后再试。" in page and "Please try again in 30 seconds." in page
    assert client.get_cookie("linli_staff") is None
    # The admin, at another desk, is not slowed, and reads the three attempts.
    desk = app.test_client()
    desk.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    admin = StaffActions(desk)
    assert admin.sign_in("admin", ADMIN_PASSWORD).status_code == 302
    log = desk.get("/staff/audit?action=staff.sign_in_failed").get_data(as_text=True)
    # In words: the client that typed them, and the account they were typed for.
    assert log.count("来自 203.0.113.66 的控制台或服务机") == 3
    assert log.count("工作人员账户 zhao") == 3
    assert "not the password" not in log


def test_one_client_is_stopped_after_ten_wrong_passwords_across_usernames(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    for n in range(10):
        assert staff_auth.sign_in(f"guess{n}", "not the password").status_code == 401
    assert staff_auth.sign_in().status_code == 429
