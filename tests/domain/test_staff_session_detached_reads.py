"""``staff_sites.recently_seen_at_work``: the console's and the API's sign-in read on the
driver's cursor finds the same account the ORM read does, detached, and refuses every session
the ORM read refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, update

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.models.sites import Site
from booking.people import auth_sessions, staff, staff_sites
from booking.people.models.staff import StaffAccount, StaffRole


@pytest.fixture
def token(any_database: Database, clock: FrozenClock) -> str:
    with any_database.write() as session:
        site = Site(slug="demo", name_zh="演示中心", name_en="Demo centre")
        session.add(site)
        session.flush()
        account = staff.create_staff(
            session,
            site_id=site.id,
            username="zhao",
            display_name="赵敏",
            password="correct horse battery",
            role=StaffRole.ADMIN,
            now=clock.now(),
        )
        return auth_sessions.start_staff_session(session, staff=account, now=clock.now())


def both_reads(
    database: Database, token: str, clock: FrozenClock
) -> tuple[StaffAccount | None, StaffAccount | None]:
    with database.read_statements() as session:
        detached = staff_sites.recently_seen_at_work(session, token=token, now=clock.now())
        loaded = auth_sessions.recently_seen_staff(session, token=token, now=clock.now())
    return detached, loaded


def test_the_detached_read_finds_the_account_the_orm_read_finds(
    any_database: Database, token: str, clock: FrozenClock
) -> None:
    detached, loaded = both_reads(any_database, token, clock)

    assert detached is not None and loaded is not None
    for attribute in inspect(StaffAccount).column_attrs:
        assert getattr(detached, attribute.key) == getattr(loaded, attribute.key), attribute.key
    assert detached.role is StaffRole.ADMIN and detached.is_admin
    assert detached.created_at.tzinfo is not None
    assert inspect(detached).detached


def test_the_detached_read_refuses_a_session_ended_on_the_server(
    any_database: Database, token: str, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        auth_sessions.end_staff_session(session, token=token, now=clock.now())

    assert both_reads(any_database, token, clock) == (None, None)


def test_the_detached_read_refuses_a_disabled_account(
    any_database: Database, token: str, clock: FrozenClock
) -> None:
    with any_database.write() as session:
        session.execute(update(StaffAccount).values(is_active=False))

    assert both_reads(any_database, token, clock) == (None, None)


def test_the_detached_read_leaves_a_session_not_seen_for_a_minute_to_the_full_check(
    any_database: Database, token: str, clock: FrozenClock
) -> None:
    clock.advance(auth_sessions.SEEN_GRANULARITY + timedelta(seconds=1))

    assert both_reads(any_database, token, clock) == (None, None)


@pytest.mark.parametrize("forged", ["", "not-a-token"])
def test_the_detached_read_refuses_a_token_that_is_no_session(
    any_database: Database, token: str, clock: FrozenClock, forged: str
) -> None:
    assert both_reads(any_database, forged, clock) == (None, None)
