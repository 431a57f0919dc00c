"""What a signed-in resident's request costs before its page: one read, no write, and still
refused at once when the session was ended elsewhere (revocation stays immediate)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.people import auth_sessions
from booking.people.models.residents import Resident
from kiosk.extensions import database
from tests.kiosk.conftest import DEMO_PHONE, KioskActions
from tests.perf.test_query_counts import statements

WRITES = ("BEGIN IMMEDIATE", "INSERT", "UPDATE", "DELETE")


@pytest.fixture
def kiosk(client: FlaskClient, demo: None) -> KioskActions:
    return KioskActions(client)


def test_a_kiosk_request_soon_after_the_last_resumes_the_session_without_writing(
    app: Flask, clock: FrozenClock, kiosk: KioskActions
) -> None:
    kiosk.sign_in()
    clock.advance(timedelta(seconds=3))
    sent = statements(app, lambda: kiosk.client.get("/kiosk/"))
    assert 'data-signed-in="true"' in kiosk.home()
    assert not [s for s in sent if s.lstrip().upper().startswith(WRITES)], sent
    assert len(sent) == 1, sent  # the centre with the session and its resident, in one read


def test_a_session_ended_elsewhere_is_refused_on_the_very_next_request(
    app: Flask, clock: FrozenClock, kiosk: KioskActions
) -> None:
    kiosk.sign_in()
    assert kiosk.is_signed_in()
    with app.app_context(), database().write() as session:
        resident_id = session.scalar(select(Resident.id).where(Resident.phone == DEMO_PHONE))
        assert resident_id is not None
        auth_sessions.end_all_resident_sessions(
            session, resident_id=resident_id, now=clock.now(), reason="pin_reset"
        )
    # Same moment: the session was marked seen just now, and is refused all the same.
    assert not kiosk.is_signed_in()


def test_an_account_deactivated_behind_a_live_session_is_refused_on_the_very_next_request(
    app: Flask, clock: FrozenClock, kiosk: KioskActions
) -> None:
    """The one read joins the account too: a deactivated resident's session, even one left
    live (deactivation ends them as well), signs nobody in."""
    kiosk.sign_in()
    assert kiosk.is_signed_in()
    with app.app_context(), database().write() as session:
        resident = session.scalars(select(Resident).where(Resident.phone == DEMO_PHONE)).one()
        resident.deactivated_at = clock.now()
    assert not kiosk.is_signed_in()


def test_a_session_used_a_while_ago_is_marked_seen_again_so_it_stays_alive(
    app: Flask, clock: FrozenClock, kiosk: KioskActions
) -> None:
    kiosk.sign_in()
    # 50 s, 50 s, 50 s: each tap within the 60 s idle limit of the one before, 150 s in all.
    for _ in range(3):
        clock.advance(timedelta(seconds=50))
        assert kiosk.is_signed_in()
