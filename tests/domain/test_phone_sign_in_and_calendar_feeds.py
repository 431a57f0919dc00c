"""The domain behind the phone page, on SQLite and PostgreSQL: a code signs a resident in once
under the PIN's throttle; phone and kiosk sessions are each resumed only where they were made;
a resident has at most one live calendar feed, found only by its secret while live."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import NotFound, SessionExpired, SignInFailed
from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.people import auth_sessions, calendar_feeds, one_time_codes
from booking.people.enrolment import EnrolmentDetails, enrol_resident
from booking.people.models.calendar_feeds import CalendarFeed
from booking.people.models.resident_codes import CodePurpose
from booking.people.models.resident_sessions import SessionChannel
from booking.people.models.residents import Resident
from booking.people.one_time_codes import CodeUsed

PHONE = "13900000001"
CLIENT = "10.0.0.20"


@pytest.fixture
def site_id(any_database: Database) -> int:
    with any_database.write() as session:
        site = Site(slug="xinhua", name_zh="新华", name_en="Xinhua")
        session.add(site)
        session.flush()
        return site.id


@pytest.fixture
def resident_id(any_database: Database, site_id: int, clock: FrozenClock) -> int:
    with any_database.write() as session:
        return enrol_resident(session, site_id=site_id, now=clock.now(), actor="staff:zhao",
                              details=EnrolmentDetails(name="王秀英", phone=PHONE)).resident.id  # fmt: skip


def issue(database: Database, site_id: int, resident_id: int, clock: FrozenClock) -> str:
    with database.write() as session:
        return one_time_codes.issue_code(session, resident_id=resident_id, site_id=site_id,
                                         purpose=CodePurpose.ENROL, now=clock.now(),
                                         actor="staff:zhao").code  # fmt: skip


def sign_in_with(database: Database, site_id: int, clock: FrozenClock, code: str) -> int:
    with database.write() as session:
        return one_time_codes.sign_in_with_code(session, site_id=site_id, phone=PHONE, code=code,
                                                now=clock.now(), client=CLIENT).id  # fmt: skip


def test_a_code_signs_in_once_and_is_audited(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    code = issue(any_database, site_id, resident_id, clock)
    assert sign_in_with(any_database, site_id, clock, code) == resident_id
    with pytest.raises(CodeUsed):
        sign_in_with(any_database, site_id, clock, code)
    with any_database.read() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "resident.signed_in_with_code" in actions


def test_a_wrong_code_is_the_same_failure_as_an_unknown_phone(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    code = issue(any_database, site_id, resident_id, clock)
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    with pytest.raises(SignInFailed):
        sign_in_with(any_database, site_id, clock, wrong)


def test_sessions_are_resumed_only_on_the_channel_they_were_made_on(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        resident = session.get_one(Resident, resident_id)
        phone_token = auth_sessions.start_resident_session(
            session, resident=resident, site_id=site_id, now=clock.now(),
            channel=SessionChannel.PHONE,
        )  # fmt: skip
        kiosk_token = auth_sessions.start_resident_session(
            session, resident=resident, site_id=site_id, now=clock.now()
        )
    month = timedelta(days=30)
    with any_database.write() as session:
        found, _ = auth_sessions.resume_resident_session(
            session, token=phone_token, now=clock.now(), idle_limit=month,
            channel=SessionChannel.PHONE,
        )  # fmt: skip
        assert found.id == resident_id
    for token, channel in (
        (kiosk_token, SessionChannel.PHONE),
        (phone_token, SessionChannel.KIOSK),
    ):
        with any_database.write() as session, pytest.raises(SessionExpired):
            auth_sessions.resume_resident_session(
                session, token=token, now=clock.now(), idle_limit=month, channel=channel
            )


def test_a_resident_has_one_live_feed_and_renewing_stops_the_old(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        first = calendar_feeds.new_feed(session, resident_id=resident_id, site_id=site_id,
                                        actor=f"resident:{resident_id}", now=clock.now()).token  # fmt: skip
    clock.advance(timedelta(minutes=5))
    with any_database.write() as session:
        second = calendar_feeds.new_feed(session, resident_id=resident_id, site_id=site_id,
                                         actor=f"resident:{resident_id}", now=clock.now()).token  # fmt: skip
    assert first != second and calendar_feeds.TOKEN_PATTERN.match(second)
    with any_database.read() as session:
        assert calendar_feeds.feed_by_token(session, token=second).resident_id == resident_id
        with pytest.raises(NotFound):
            calendar_feeds.feed_by_token(session, token=first)
        live = session.scalars(select(CalendarFeed).where(CalendarFeed.revoked_at.is_(None)))
        assert [feed.token for feed in live] == [second]


def test_revoking_stops_the_feed_and_a_second_revoke_changes_nothing(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        token = calendar_feeds.new_feed(session, resident_id=resident_id, site_id=site_id,
                                        actor="staff:zhao", now=clock.now()).token  # fmt: skip
    with any_database.write() as session:
        assert calendar_feeds.revoke_feed(session, resident_id=resident_id, site_id=site_id,
                                          actor="staff:zhao", now=clock.now())  # fmt: skip
    with any_database.write() as session:
        assert not calendar_feeds.revoke_feed(session, resident_id=resident_id, site_id=site_id,
                                              actor="staff:zhao", now=clock.now())  # fmt: skip
        with pytest.raises(NotFound):
            calendar_feeds.feed_by_token(session, token=token)


def test_no_feed_for_someone_who_is_not_a_member_here(
    any_database: Database, site_id: int, resident_id: int, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        other = Site(slug="other", name_zh="别处", name_en="Elsewhere")
        session.add(other)
        session.flush()
        with pytest.raises(NotFound):
            calendar_feeds.new_feed(session, resident_id=resident_id, site_id=other.id,
                                    actor="staff:x", now=clock.now())  # fmt: skip
