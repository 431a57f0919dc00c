"""The console's health area: alert lists without values, the audited resident health page,
acknowledge / note / close, the FHIR download, and the admins' settings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.alerts.models.alerts import AlertStatus, StaffAlert
from booking.core.clock import FrozenClock
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.health import operations as health
from booking.health import pairing as health_pairing
from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.page_text import without_csrf_tokens
from tests.staff.district_sites import add_dongfang

ADMIN_PASSWORD = "linli-admin-2026"
FLAGS = {
    "body_movement": False,
    "cuff_too_loose": False,
    "irregular_pulse": False,
    "pulse_out_of_range": False,
    "improper_position": False,
}


@pytest.fixture
def wang(app: Flask, demo: None, clock: FrozenClock) -> int:
    """王秀英 (consent in the demo seed) with a grade 3 reading of 187/113 and a normal one."""
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        rid = session.scalars(select(Resident.id).where(Resident.phone == "13800000001")).one()
        for minutes, (sys_, dia) in ((30, (118, 76)), (2, (187, 113))):
            health_pairing.reading_received(
                session,
                site_id=site.id,
                device_id="bp-1",
                card_id="CARD0001",
                now=clock.now(),
                systolic=sys_,
                diastolic=dia,
                mean_arterial_pressure=round(dia + (sys_ - dia) / 3, 1),
                unit="mmHg",
                pulse=77,
                flags=FLAGS,
                measured_at=clock.now() - timedelta(minutes=minutes),
            )
    return rid


def signed_in(client: FlaskClient, staff_auth: object, username: str = "zhao") -> None:
    if username == "admin":
        staff_auth.sign_in("admin", ADMIN_PASSWORD)  # type: ignore[attr-defined]
    else:
        staff_auth.sign_in()  # type: ignore[attr-defined]


def csrf(page: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def the_alert(app: Flask) -> StaffAlert:
    with app.app_context(), database().read() as session:
        alert = session.scalars(select(StaffAlert).where(StaffAlert.kind == "bp.urgent")).one()
        session.expunge(alert)
        return alert


def audit_actions(app: Flask) -> list[tuple[str, str]]:
    with app.app_context(), database().read() as session:
        return [
            (e.action, e.subject)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def test_the_health_list_names_the_resident_and_says_measured_but_shows_no_value(
    client: FlaskClient, staff_auth: object, wang: int
) -> None:
    signed_in(client, staff_auth)
    for path in ("/staff/health", "/staff/alerts"):
        page = without_csrf_tokens(client.get(path).get_data(as_text=True))
        for value in ("187", "113", "118", "76"):
            assert value not in page, (path, value)
    page = client.get("/staff/health").get_data(as_text=True)
    assert "王秀英" in page and "测量" in page
    assert f"/staff/health/residents/{wang}" in page


def test_the_console_nav_has_a_health_entry(
    client: FlaskClient, staff_auth: object, demo: None
) -> None:
    signed_in(client, staff_auth)
    assert 'href="/staff/health"' in client.get("/staff/").get_data(as_text=True)


def test_the_resident_health_page_shows_values_and_chart_and_is_audited(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int
) -> None:
    signed_in(client, staff_auth)
    page = client.get(f"/staff/health/residents/{wang}").get_data(as_text=True)
    assert "187 / 113" in page and "118 / 76" in page
    assert "<svg" in page and page.count('class="bp-point-systolic"') == 2
    assert ("health.viewed", f"resident:{wang}") in audit_actions(app)


def test_a_resident_of_another_centre_is_not_found_and_leaves_no_audit_entry(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int, clock: FrozenClock
) -> None:
    stranger = add_dongfang(app, clock).resident_id
    signed_in(client, staff_auth)
    assert client.get(f"/staff/health/residents/{stranger}").status_code == 404
    assert client.get(f"/staff/health/residents/{stranger}/fhir.json").status_code == 404
    assert all(subject != f"resident:{stranger}" for _, subject in audit_actions(app))


def test_staff_acknowledge_add_a_note_and_close_an_alert(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int
) -> None:
    signed_in(client, staff_auth)
    alert = the_alert(app)
    token = csrf(client.get("/staff/health").get_data(as_text=True))
    back = f"/staff/health/residents/{wang}"
    response = client.post(
        f"/staff/health/alerts/{alert.id}/acknowledge",
        data={"csrf_token": token, "note": "calling her", "next": back},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith(back)
    client.post(
        f"/staff/health/alerts/{alert.id}/note",
        data={"csrf_token": token, "note": "no answer, going over"},
    )
    client.post(
        f"/staff/health/alerts/{alert.id}/resolve",
        data={"csrf_token": token, "note": "doctor visited"},
    )
    done = the_alert(app)
    assert done.status is AlertStatus.RESOLVED
    assert [
        "calling her" in done.note,
        "going over" in done.note,
        "doctor visited" in done.note,
    ] == [True] * 3


def test_closing_without_saying_what_was_done_changes_nothing(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int
) -> None:
    signed_in(client, staff_auth)
    alert = the_alert(app)
    token = csrf(client.get("/staff/health").get_data(as_text=True))
    client.post(
        f"/staff/health/alerts/{alert.id}/resolve", data={"csrf_token": token, "note": "  "}
    )
    assert the_alert(app).status is AlertStatus.OPEN


def test_a_form_without_csrf_token_changes_nothing(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int
) -> None:
    signed_in(client, staff_auth)
    alert = the_alert(app)
    client.post(f"/staff/health/alerts/{alert.id}/acknowledge", data={"note": "x"})
    assert the_alert(app).status is AlertStatus.OPEN


def test_the_fhir_download_validates_and_is_audited(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int
) -> None:
    signed_in(client, staff_auth)
    response = client.get(f"/staff/health/residents/{wang}/fhir.json")
    assert response.mimetype == "application/fhir+json"
    assert "attachment" in response.headers["Content-Disposition"]
    bundle = Bundle.model_validate_json(response.get_data(as_text=True))
    assert len(bundle.entry or []) == 4  # two panels, two heart rates
    assert ("health.exported", f"resident:{wang}") in audit_actions(app)


def test_an_admin_changes_the_ruleset_and_retention(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int
) -> None:
    signed_in(client, staff_auth, "admin")
    token = csrf(client.get("/staff/health").get_data(as_text=True))
    response = client.post(
        "/staff/health/settings",
        data={"csrf_token": token, "ruleset": "esh_2023", "retention_days": "365"},
    )
    assert response.status_code == 303
    with app.app_context(), database().read() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        assert health.settings_for(session, site.id) == health.Settings(
            health.Ruleset.ESH_2023, 365
        )


@pytest.mark.parametrize(
    ("ruleset", "days"), [("who", "730"), ("china", "10"), ("china", "two years")]
)
def test_bad_settings_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int, ruleset: str, days: str
) -> None:
    signed_in(client, staff_auth, "admin")
    token = csrf(client.get("/staff/health").get_data(as_text=True))
    response = client.post(
        "/staff/health/settings",
        data={"csrf_token": token, "ruleset": ruleset, "retention_days": days},
    )
    assert response.status_code == 400
    with app.app_context(), database().read() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        assert health.settings_for(session, site.id) == health.Settings(health.Ruleset.CHINA, 730)


def test_staff_who_are_not_admins_cannot_change_settings(
    client: FlaskClient, staff_auth: object, wang: int
) -> None:
    signed_in(client, staff_auth)
    token = csrf(client.get("/staff/health").get_data(as_text=True))
    response = client.post(
        "/staff/health/settings",
        data={"csrf_token": token, "ruleset": "aha_2017", "retention_days": "365"},
    )
    assert response.status_code == 403


def test_the_chart_draws_the_lines_of_the_ruleset_each_reading_was_classified_with(
    app: Flask, client: FlaskClient, staff_auth: object, wang: int, clock: FrozenClock
) -> None:
    """王秀英's two readings were labelled by the Chinese guideline (140/90); after the site
    moves to AHA 2017 a new one is labelled, and drawn, by 130/80."""
    signed_in(client, staff_auth, "admin")
    token = csrf(client.get("/staff/health").get_data(as_text=True))
    client.post(
        "/staff/health/settings",
        data={"csrf_token": token, "ruleset": "aha_2017", "retention_days": "365"},
    )
    with app.app_context(), database().write() as session:
        site = session.scalars(select(Site).where(Site.slug == "xinhua")).one()
        health_pairing.reading_received(
            session, site_id=site.id, device_id="bp-1", card_id="CARD0001", now=clock.now(),
            systolic=134, diastolic=84, mean_arterial_pressure=100.7, unit="mmHg", pulse=70,
            flags=FLAGS, measured_at=clock.now() - timedelta(minutes=1),
        )  # fmt: skip
    page = client.get(f"/staff/health/residents/{wang}").get_data(as_text=True)
    lines = re.findall(r'<line class="bp-reference"[^>]*>\s*<text[^>]*>(\d+)</text>', page)
    assert sorted(lines) == ["130", "140", "80", "90"]
    assert "140 和 90：高于这两条线的读数算偏高" in page
    assert "130 和 80：高于这两条线的读数算偏高" in page
