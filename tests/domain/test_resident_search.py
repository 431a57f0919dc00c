"""Finding residents of a centre by name, phone or card, a page at a time."""

from __future__ import annotations

import pytest

from booking.core.clock import FrozenClock
from booking.core.db import Database
from booking.core.errors import InvalidInput, NotFound
from booking.core.models.sites import Site
from booking.people import residents


@pytest.fixture
def site_ids(any_database: Database, clock: FrozenClock) -> tuple[int, int]:
    with any_database.write() as session:
        home = Site(slug="home", name_zh="本中心", name_en="Home")
        other = Site(slug="other", name_zh="别的中心", name_en="Other")
        session.add_all([home, other])
        session.flush()
        people = [
            ("王秀英", "13800000001", "CARD0001"),
            ("王_小明", "13800000002", None),
            ("李建国", "13900000003", "CARD%003"),
        ]
        for name, phone, card in people:
            residents.register_resident(
                session,
                site_id=home.id,
                name=name,
                phone=phone,
                pin="275139",
                now=clock.now(),
                card_id=card,
            )
        residents.register_resident(
            session,
            site_id=other.id,
            name="王外人",
            phone="13700000009",
            pin="275139",
            now=clock.now(),
        )
        return home.id, other.id


def names(database: Database, site_id: int, query: str) -> list[str]:
    with database.read() as session:
        return [r.name for r in residents.search_residents(session, site_id=site_id, query=query)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("王", ["王_小明", "王秀英"]),
        ("0001", ["王秀英"]),
        ("138 0000 0002", ["王_小明"]),
        ("+8613900000003", ["李建国"]),
        ("card0001", ["王秀英"]),  # in any case, on SQLite and PostgreSQL alike
        ("CARD0001", ["王秀英"]),
        ("_", ["王_小明"]),  # a wildcard typed at the desk matches only itself
        ("%", ["李建国"]),
        ("", ["李建国", "王_小明", "王秀英"]),
    ],
)
def test_search_finds_members_by_name_phone_or_card(
    any_database: Database, site_ids: tuple[int, int], query: str, expected: list[str]
) -> None:
    assert sorted(names(any_database, site_ids[0], query)) == sorted(expected)


def test_search_never_shows_residents_of_another_centre(
    any_database: Database, site_ids: tuple[int, int]
) -> None:
    assert "王外人" not in names(any_database, site_ids[0], "王")
    assert names(any_database, site_ids[1], "王") == ["王外人"]


def test_search_text_longer_than_sixty_characters_is_refused(
    any_database: Database, site_ids: tuple[int, int]
) -> None:
    with any_database.read() as session, pytest.raises(InvalidInput):
        residents.search_residents(session, site_id=site_ids[0], query="王" * 61)


def test_pages_hold_page_size_residents_and_count_them_all(
    any_database: Database, site_ids: tuple[int, int]
) -> None:
    with any_database.read() as session:
        first = residents.resident_page(session, site_id=site_ids[0], page=1, page_size=2)
        second = residents.resident_page(session, site_id=site_ids[0], page=2, page_size=2)
        first_ids = {r.id for r in first.residents}
        second_ids = {r.id for r in second.residents}
    assert (first.total, first.pages, len(first_ids)) == (3, 2, 2)
    assert len(second_ids) == 1
    assert not first_ids & second_ids


def test_page_zero_is_refused(any_database: Database, site_ids: tuple[int, int]) -> None:
    with any_database.read() as session, pytest.raises(InvalidInput):
        residents.resident_page(session, site_id=site_ids[0], page=0)


def test_a_member_of_another_centre_is_not_found(
    any_database: Database, site_ids: tuple[int, int]
) -> None:
    with any_database.read() as session:
        outsider = residents.search_residents(session, site_id=site_ids[1])[0]
        with pytest.raises(NotFound):
            residents.get_member(session, site_id=site_ids[0], resident_id=outsider.id)
