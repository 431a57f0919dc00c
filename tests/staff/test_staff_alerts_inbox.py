"""The console's alerts inbox: urgent first in plain words, acknowledge and resolve with notes,
resolved history, and the live stream of new alerts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.alerts import operations as alerts
from booking.alerts.models.alerts import AlertSeverity, AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, STAFF_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def english(client: FlaskClient, staff_auth: StaffActions, demo: None) -> StaffActions:
    """Signed in as zhao, reading the console in English."""
    staff_auth.sign_in()
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


def raise_alert(
    app: Flask,
    clock: FrozenClock,
    kind: str = "locker.door_left_open",
    severity: AlertSeverity = AlertSeverity.WARNING,
    summary: str = "locker-a: compartment 3 left open",
    subject: str = "device:locker-a",
    site_slug: str = "xinhua",
) -> int:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == site_slug)).one()
        return alerts.raise_alert(
            session,
            site_id=site.id,
            kind=kind,
            severity=severity,
            summary=summary,
            subject=subject,
            dedupe_key=f"{kind}:{summary}",
            now=clock.now(),
        ).id


def alert(app: Flask, alert_id: int) -> StaffAlert:
    with app.app_context(), database().read() as session:
        found = session.get_one(StaffAlert, alert_id)
        session.expunge(found)
        return found


def listed_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-alert-id="(\d+)"', page)]


def test_the_inbox_lists_urgent_alerts_first_then_newest(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    older = raise_alert(app, clock, summary="door 1")
    urgent = raise_alert(app, clock, "bp.urgent", AlertSeverity.URGENT, "see the resident")
    newer = raise_alert(app, clock, summary="door 2")
    page = client.get("/staff/alerts").get_data(as_text=True)
    assert listed_ids(page) == [urgent, newer, older]


def test_the_inbox_words_the_kind_and_links_the_subject(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    raise_alert(app, clock, "bp.urgent", AlertSeverity.URGENT, "see them", subject="resident:1")
    clock.advance(timedelta(minutes=5))
    page = client.get("/staff/alerts").get_data(as_text=True)
    assert "Blood pressure: urgent reading" in page
    assert "Urgent" in page  # the severity in words, not only in colour
    assert 'href="/staff/residents/1"' in page
    assert "5 minutes ago" in page


def test_an_unknown_kind_is_shown_as_its_code(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    raise_alert(app, clock, kind="boiler.too_hot")
    assert "boiler.too_hot" in client.get("/staff/alerts").get_data(as_text=True)


def test_alerts_of_another_site_are_not_shown(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    with app.app_context(), database().write() as session:
        session.add(Site(slug="other", name_zh="别处", name_en="Elsewhere"))
    raise_alert(app, clock, summary="far away door", site_slug="other")
    assert "far away door" not in client.get("/staff/alerts").get_data(as_text=True)


def test_acknowledging_marks_the_alert_taken_and_keeps_the_note(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    alert_id = raise_alert(app, clock)
    response = client.post(
        f"/staff/alerts/{alert_id}/acknowledge",
        data={"note": "going now", "csrf_token": english.csrf_token()},
    )
    assert response.status_code == 303
    found = alert(app, alert_id)
    assert found.status is AlertStatus.ACKNOWLEDGED
    # On the centre's clock and by the name colleagues know, as the console shows the rest.
    local = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"[{local:%Y-%m-%d %H:%M} 赵敏 (社区工作者)] going now" in found.note
    assert "Someone is on it" in client.get("/staff/alerts").get_data(as_text=True)


def test_resolving_needs_a_note_and_changes_nothing_without_one(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    alert_id = raise_alert(app, clock)
    response = client.post(
        f"/staff/alerts/{alert_id}/resolve",
        data={"note": "   ", "csrf_token": english.csrf_token()},
    )
    assert response.status_code == 400
    assert "Say what was done." in response.get_data(as_text=True)
    assert alert(app, alert_id).status is AlertStatus.OPEN


def test_resolving_with_a_note_closes_the_alert_and_audits_it(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    alert_id = raise_alert(app, clock)
    response = client.post(
        f"/staff/alerts/{alert_id}/resolve",
        data={"note": "door shut, nothing missing", "csrf_token": english.csrf_token()},
    )
    assert response.status_code == 303
    assert alert(app, alert_id).status is AlertStatus.RESOLVED
    assert alert_id not in listed_ids(client.get("/staff/alerts").get_data(as_text=True))
    with app.app_context(), database().read() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject == f"alert:{alert_id}")
        ).all()
    assert actions == ["alert.resolved"]


def test_resolving_twice_says_it_was_already_resolved(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    alert_id = raise_alert(app, clock)
    token = english.csrf_token()
    client.post(f"/staff/alerts/{alert_id}/resolve", data={"note": "done", "csrf_token": token})
    again = client.post(
        f"/staff/alerts/{alert_id}/resolve",
        data={"note": "done", "csrf_token": token},
        follow_redirects=True,
    )
    assert "This alert was already resolved." in again.get_data(as_text=True)


def test_acting_on_an_alert_without_a_csrf_token_is_refused(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    alert_id = raise_alert(app, clock)
    response = client.post(f"/staff/alerts/{alert_id}/resolve", data={"note": "done"})
    assert response.status_code == 400
    assert alert(app, alert_id).status is AlertStatus.OPEN


def test_acting_on_an_alert_of_another_site_is_not_found(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    with app.app_context(), database().write() as session:
        session.add(Site(slug="other", name_zh="别处", name_en="Elsewhere"))
    alert_id = raise_alert(app, clock, site_slug="other")
    response = client.post(
        f"/staff/alerts/{alert_id}/resolve", data={"note": "x", "csrf_token": english.csrf_token()}
    )
    assert response.status_code == 404
    assert alert(app, alert_id).status is AlertStatus.OPEN


def resolve(client: FlaskClient, staff: StaffActions, alert_id: int) -> None:
    client.post(
        f"/staff/alerts/{alert_id}/resolve", data={"note": "ok", "csrf_token": staff.csrf_token()}
    )


def test_the_history_lists_resolved_alerts_filtered_by_kind(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    door = raise_alert(app, clock, summary="door history")
    offline = raise_alert(app, clock, "device.offline", summary="locker-b went offline")
    raise_alert(app, clock, summary="still open door")
    resolve(client, english, door)
    resolve(client, english, offline)
    page = client.get("/staff/alerts/history").get_data(as_text=True)
    assert "door history" in page and "locker-b went offline" in page
    assert "still open door" not in page
    filtered = client.get("/staff/alerts/history?kind=device.offline").get_data(as_text=True)
    assert "locker-b went offline" in filtered and "door history" not in filtered


def test_the_history_filters_by_local_date_of_resolution(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    door = raise_alert(app, clock, summary="resolved on the 24th")
    resolve(client, english, door)
    on_day = client.get("/staff/alerts/history?date_from=2026-11-24&date_to=2026-11-24")
    assert "resolved on the 24th" in on_day.get_data(as_text=True)
    later = client.get("/staff/alerts/history?date_from=2026-11-25")
    assert "resolved on the 24th" not in later.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    ["kind=nonsense", "date_from=yesterday", "date_from=2026-11-25&date_to=2026-11-24", "page=0"],
)
def test_a_bad_history_filter_is_refused_with_a_message(
    client: FlaskClient, english: StaffActions, query: str
) -> None:
    response = client.get(f"/staff/alerts/history?{query}")
    assert response.status_code == 400
    assert 'class="errors"' in response.get_data(as_text=True)


# --- the live stream --------------------------------------------------------------------------


@pytest.fixture
def short_stream(app: Flask) -> None:
    """One poll per stream: the test client reads it to its end at once."""
    app.config.update(STAFF_ALERT_STREAM_SECONDS=0, STAFF_ALERT_POLL_SECONDS=0)


def stream_events(
    client: FlaskClient, url: str, kind: str = "alert", **headers: str
) -> list[dict[str, object]]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = []
    for block in response.get_data(as_text=True).split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields.get("event") == kind:
            events.append({"event_id": fields["id"], **json.loads(fields["data"])})
    return events


@pytest.mark.usefixtures("short_stream")
def test_the_stream_sends_alerts_raised_after_the_page_was_shown(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    raise_alert(app, clock, summary="on the page already")
    page = client.get("/staff/alerts").get_data(as_text=True)
    stream_url = re.search(r'data-stream="([^"]+)"', page)
    assert stream_url is not None
    new = raise_alert(app, clock, "locker.forced_open", AlertSeverity.URGENT, "forced!")
    events = stream_events(client, stream_url.group(1).replace("&amp;", "&"))
    assert new in [e["id"] for e in events]
    sent = next(e for e in events if e["id"] == new)
    assert sent["rank"] == 0
    assert str(sent["event_id"]).startswith(f"{new}-")  # where a reconnect resumes
    assert f'id="alert-{new}"' in str(sent["html"])
    assert "Locker door forced open" in str(sent["announce"])


@pytest.mark.usefixtures("short_stream")
def test_a_reconnecting_stream_resumes_from_the_last_event_id(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    first = raise_alert(app, clock, summary="alpha")
    second = raise_alert(app, clock, summary="beta")
    events = stream_events(client, "/staff/alerts/stream?after=0", **{"Last-Event-ID": str(first)})
    assert second in [e["id"] for e in events]
    assert str(events[-1]["event_id"]).startswith(f"{second}-")


@pytest.mark.usefixtures("short_stream")
def test_the_stream_looks_a_little_back_for_alerts_committed_late(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    # An alert whose transaction committed after a higher id was already sent: the
    # browser drops the ones it shows already, by id.
    late = raise_alert(app, clock, summary="gamma")
    seen = raise_alert(app, clock, summary="delta")
    events = stream_events(client, f"/staff/alerts/stream?after={seen}")
    assert [e["id"] for e in events] == [late, seen]


@pytest.mark.usefixtures("short_stream")
def test_the_stream_leaves_out_resolved_alerts(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    alert_id = raise_alert(app, clock, summary="gone already")
    resolve(client, english, alert_id)
    assert stream_events(client, "/staff/alerts/stream?after=0") == []


@pytest.mark.usefixtures("short_stream")
def test_the_stream_tells_the_browser_when_to_reconnect(
    client: FlaskClient, english: StaffActions
) -> None:
    body = client.get("/staff/alerts/stream").get_data(as_text=True)
    assert body.startswith("retry: ")


def test_the_stream_refuses_a_bad_last_event_id(client: FlaskClient, english: StaffActions) -> None:
    assert client.get("/staff/alerts/stream?after=abc").status_code == 400
    response = client.get("/staff/alerts/stream", headers={"Last-Event-ID": "-1"})
    assert response.status_code == 400


def test_the_stream_is_for_signed_in_staff_only(client: FlaskClient) -> None:
    response = client.get("/staff/alerts/stream")
    assert response.status_code == 302


def test_an_alert_raised_this_minute_is_just_now(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    raise_alert(app, clock)
    clock.advance(timedelta(seconds=30))
    assert "just now" in client.get("/staff/alerts").get_data(as_text=True)


def shown_page_stream_url(client: FlaskClient) -> str:
    page = client.get("/staff/alerts").get_data(as_text=True)
    found = re.search(r'data-stream="([^"]+)"', page)
    assert found is not None
    return found.group(1).replace("&amp;", "&")


def acknowledge(client: FlaskClient, staff: StaffActions, alert_id: int) -> None:
    client.post(
        f"/staff/alerts/{alert_id}/acknowledge",
        data={"note": "", "csrf_token": staff.csrf_token()},
    )


@pytest.fixture
def colleague(app: Flask, demo: None) -> tuple[FlaskClient, StaffActions]:
    """A second console, signed in as admin in its own browser."""
    other = app.test_client()
    actions = StaffActions(other)
    actions.sign_in("admin", ADMIN_PASSWORD)
    return other, actions


@pytest.fixture
def watched_alert(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions, short_stream: None
) -> tuple[int, str]:
    """An alert raised, then the inbox shown; 20 s later. The alert's id and the page's stream."""
    alert_id = raise_alert(app, clock)
    url = shown_page_stream_url(client)
    clock.advance(timedelta(seconds=20))
    return alert_id, url


def test_the_stream_redraws_an_alert_a_colleague_acknowledged(
    client: FlaskClient,
    clock: FrozenClock,
    colleague: tuple[FlaskClient, StaffActions],
    watched_alert: tuple[int, str],
) -> None:
    alert_id, url = watched_alert
    acknowledge(*colleague, alert_id)
    changes = stream_events(client, url, kind="change")
    assert [(c["id"], c["status"]) for c in changes] == [(alert_id, "acknowledged")]
    assert f'id="alert-{alert_id}"' in str(changes[0]["html"])
    assert "Someone is on it" in str(changes[0]["html"])


def test_the_stream_drops_an_alert_a_colleague_resolved(
    client: FlaskClient,
    clock: FrozenClock,
    colleague: tuple[FlaskClient, StaffActions],
    watched_alert: tuple[int, str],
) -> None:
    alert_id, url = watched_alert
    resolve(*colleague, alert_id)
    changes = stream_events(client, url, kind="change")
    assert [(c["id"], c["status"], c["html"]) for c in changes] == [(alert_id, "resolved", "")]


def test_a_reconnecting_stream_catches_changes_made_while_it_was_away(
    client: FlaskClient,
    clock: FrozenClock,
    colleague: tuple[FlaskClient, StaffActions],
    watched_alert: tuple[int, str],
) -> None:
    alert_id, url = watched_alert
    acknowledge(*colleague, alert_id)
    first = stream_events(client, url, kind="change")
    clock.advance(timedelta(minutes=2))
    resolve(*colleague, alert_id)
    clock.advance(timedelta(minutes=2))
    last_seen = str(first[-1]["event_id"])
    resumed = stream_events(client, url, kind="change", **{"Last-Event-ID": last_seen})
    # Changes close to the cursor may come again (the page applies them idempotently); the
    # last word on the alert is the resolution.
    assert [(c["id"], c["status"]) for c in resumed][-1] == (alert_id, "resolved")


def test_the_stream_refuses_a_bad_change_cursor(client: FlaskClient, english: StaffActions) -> None:
    assert client.get("/staff/alerts/stream?after=1&changes=soon").status_code == 400
    response = client.get("/staff/alerts/stream", headers={"Last-Event-ID": "3-x"})
    assert response.status_code == 400


def end_by_signing_out(app: Flask, client: FlaskClient, clock: FrozenClock) -> None:
    from booking.people import auth_sessions
    from kiosk.staff.session import COOKIE_NAME

    cookie = client.get_cookie(COOKIE_NAME)
    assert cookie is not None
    with app.app_context(), database().write() as session:
        auth_sessions.end_staff_session(session, token=cookie.value, now=clock.now())


def end_by_disabling(app: Flask, client: FlaskClient, clock: FrozenClock) -> None:
    from booking.people import staff

    with app.app_context(), database().write() as session:
        zhao = staff.get_staff_by_username(session, "zhao")
        staff.set_active(session, staff_id=zhao.id, active=False, now=clock.now())


def end_by_changing_the_password(app: Flask, client: FlaskClient, clock: FrozenClock) -> None:
    from booking.people import staff

    with app.app_context(), database().write() as session:
        zhao = staff.get_staff_by_username(session, "zhao")
        staff.change_password(
            session,
            staff_id=zhao.id,
            current=STAFF_PASSWORD,
            new="a-whole-new-password",
            now=clock.now(),
        )


@pytest.mark.parametrize(
    "end_session", [end_by_signing_out, end_by_disabling, end_by_changing_the_password]
)
def test_a_running_stream_ends_when_its_staff_session_ends(
    app: Flask,
    client: FlaskClient,
    clock: FrozenClock,
    english: StaffActions,
    end_session: Callable[[Flask, FlaskClient, FrozenClock], None],
) -> None:
    # A long stream that says something at every poll, read one piece at a time.
    app.config.update(
        STAFF_ALERT_STREAM_SECONDS=600, STAFF_ALERT_POLL_SECONDS=0, STAFF_ALERT_HEARTBEAT_SECONDS=0
    )
    response = client.get("/staff/alerts/stream", buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b"retry: ")
    assert next(chunks) == b": still here\n\n"
    end_session(app, client, clock)
    rest = b"".join(chunks)  # would run for ten minutes if the stream did not notice
    response.close()
    assert rest.startswith(b"event: signed_out")
    assert b"still here" not in rest


# --- summaries in the viewer's language -------------------------------------------------------


def raise_with_params(
    app: Flask, clock: FrozenClock, kind: str, params: dict[str, str | int]
) -> int:
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        return alerts.raise_alert(
            session,
            site_id=site.id,
            kind=kind,
            severity=AlertSeverity.WARNING,
            summary="the stored English words",
            params=params,
            now=clock.now(),
        ).id


def test_a_chinese_console_reads_the_summary_in_chinese(
    app: Flask, client: FlaskClient, clock: FrozenClock, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()  # the console's default language is Chinese
    raise_with_params(
        app,
        clock,
        "loan.overdue",
        {"tool_zh": "电钻", "tool_en": "Drill", "asset": "DR-1", "days": 4},
    )
    page = client.get("/staff/alerts").get_data(as_text=True)
    assert "电钻 DR-1 已逾期 4 天" in page
    assert "the stored English words" not in page


def test_an_english_console_names_the_tool_in_english(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    raise_with_params(
        app,
        clock,
        "loan.overdue",
        {"tool_zh": "电钻", "tool_en": "Drill", "asset": "DR-1", "days": 4},
    )
    assert "Drill DR-1 is 4 days overdue" in client.get("/staff/alerts").get_data(as_text=True)


def test_a_fault_without_a_compartment_is_worded_for_the_whole_device(
    app: Flask, client: FlaskClient, clock: FrozenClock, english: StaffActions
) -> None:
    raise_with_params(app, clock, "locker.jammed", {"device": "储物柜 A"})
    assert "储物柜 A: the lock jammed" in client.get("/staff/alerts").get_data(as_text=True)


def test_a_summary_without_its_params_falls_back_to_the_stored_words(
    app: Flask, client: FlaskClient, clock: FrozenClock, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    raise_with_params(app, clock, "loan.overdue", {"asset": "DR-1"})
    assert "the stored English words" in client.get("/staff/alerts").get_data(as_text=True)


@pytest.mark.usefixtures("short_stream")
def test_the_stream_sends_the_summary_in_the_viewers_language(
    app: Flask, client: FlaskClient, clock: FrozenClock, staff_auth: StaffActions
) -> None:
    staff_auth.sign_in()
    new = raise_with_params(
        app, clock, "locker.door_left_open", {"device": "储物柜 A", "compartment": 3}
    )
    events = stream_events(client, "/staff/alerts/stream?after=0")
    sent = next(e for e in events if e["id"] == new)
    assert "储物柜 A：3 号柜格门未关" in str(sent["html"])


def test_a_worker_holds_a_bounded_number_of_streams_and_asks_the_next_to_come_back(
    app: Flask, client: FlaskClient, english: StaffActions
) -> None:
    app.config.update(STAFF_ALERT_STREAMS_PER_WORKER=1, STAFF_ALERT_POLL_SECONDS=0)
    first = client.get("/staff/alerts/stream", buffered=False)  # open, not read to its end
    assert first.status_code == 200
    second = client.get("/staff/alerts/stream")
    assert (second.status_code, second.mimetype) == (200, "text/event-stream")
    # Polite: the page's EventSource is told when to come back, and comes back by itself.
    assert second.get_data(as_text=True) == "retry: 10000\nevent: busy\ndata: {}\n\n"
    assert second.headers["Retry-After"] == "10"
    first.close()  # the first inbox was closed: its slot is free again
    app.config.update(STAFF_ALERT_STREAM_SECONDS=0)
    third = client.get("/staff/alerts/stream").get_data(as_text=True)
    assert third.startswith("retry: 3000") and "event: busy" not in third
