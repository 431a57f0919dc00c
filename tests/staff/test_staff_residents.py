"""The residents list of the console: search, pages of 50, flags, one resident's page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from booking.core.clock import FrozenClock
from tests.conftest import StaffActions
from tests.resident_rows import resident_of_another_centre, residents_named_test

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def signed_in(demo: None, staff_auth: StaffActions) -> None:
    assert staff_auth.sign_in().status_code == 302


def listed_names(page: str) -> list[str]:
    return re.findall(r'<a href="/staff/residents/\d+">([^<]+)</a>', page)


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("王", ["王秀英"]),
        ("13800000002", ["李建国"]),
        ("CARD0004", ["陈静"]),
        ("nobody", []),
    ],
)
def test_search_by_name_phone_or_card(client: FlaskClient, query: str, expected: list[str]) -> None:
    response = client.get("/staff/residents", query_string={"q": query})
    assert response.status_code == 200
    assert listed_names(response.get_data(as_text=True)) == expected


@pytest.mark.usefixtures("signed_in")
def test_the_list_shows_phone_and_flags(client: FlaskClient) -> None:
    page = client.get("/staff/residents?q=王秀英").get_data(as_text=True)
    assert "13800000001" in page
    assert "flag-elderly" in page and "flag-alone" in page
    page = client.get("/staff/residents?q=张伟").get_data(as_text=True)
    assert "flag-elderly" not in page and "flag-alone" not in page


def test_residents_of_another_centre_are_not_listed_or_shown(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    outsider = resident_of_another_centre(app, clock, name="王外人")  # matches a search for 王
    staff_auth.sign_in()
    assert listed_names(client.get("/staff/residents?q=王").get_data(as_text=True)) == ["王秀英"]
    assert client.get(f"/staff/residents/{outsider}").status_code == 404


def test_fifty_residents_a_page_with_links_to_every_page(
    app: Flask, client: FlaskClient, staff_auth: StaffActions, clock: FrozenClock
) -> None:
    residents_named_test(app, clock, 120, digits=3)
    staff_auth.sign_in()
    first = client.get("/staff/residents?q=测试").get_data(as_text=True)
    assert len(listed_names(first)) == 50
    assert "120 位居民" in first
    for number in (2, 3):
        assert f'href="/staff/residents?q=%E6%B5%8B%E8%AF%95&amp;page={number}"' in first
    assert 'href="/staff/residents?q=%E6%B5%8B%E8%AF%95&amp;page=4"' not in first
    third = client.get("/staff/residents?q=测试&page=3").get_data(as_text=True)
    assert listed_names(third) == [f"测试{n:03d}" for n in range(100, 120)]


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ({"page": "0"}, "页码须为从 1 开始的整数。"),
        ({"page": "-1"}, "页码须为从 1 开始的整数。"),
        ({"page": "two"}, "页码须为从 1 开始的整数。"),
        ({"q": "王" * 61}, "搜索内容最多 60 个字。"),
    ],
)
def test_bad_search_input_shows_a_message_and_no_list(
    client: FlaskClient, query_string: dict[str, str], message: str
) -> None:
    response = client.get("/staff/residents", query_string=query_string)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert listed_names(page) == []


@pytest.mark.usefixtures("signed_in")
def test_a_resident_page_shows_identity_and_flags(client: FlaskClient) -> None:
    listing = client.get("/staff/residents?q=王秀英").get_data(as_text=True)
    link = re.search(r'href="(/staff/residents/\d+)"', listing)
    assert link
    page = client.get(link.group(1)).get_data(as_text=True)
    assert "王秀英" in page and "13800000001" in page and "CARD0001" in page


@pytest.mark.usefixtures("signed_in")
def test_an_unknown_resident_is_not_found(client: FlaskClient) -> None:
    assert client.get("/staff/residents/99999").status_code == 404
