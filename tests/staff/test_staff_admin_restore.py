"""Restoring a retired space or tool type in the console: admins only, a CSRF-checked POST from
the "Retired" section of the same page, audited, with a message saying what happened."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from booking.core.models.audit import AuditEntry
from booking.core.models.sites import Site
from booking.lending.models.tool_types import ToolType
from booking.spaces.models.spaces import Space
from kiosk.extensions import database
from tests.conftest import ADMIN_PASSWORD, StaffActions

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def admin(client: FlaskClient, staff_auth: StaffActions, demo: None) -> StaffActions:
    staff_auth.sign_in("admin", ADMIN_PASSWORD)
    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    return staff_auth


def post(client: FlaskClient, staff: StaffActions, url: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": staff.csrf_token(), **data})


def space_id(app: Flask, code: str) -> int:
    with app.app_context(), database().read() as session:
        return session.scalars(select(Space.id).where(Space.code == code)).one()


def drill_type(app: Flask) -> int:
    with app.app_context(), database().read() as session:
        return session.scalars(select(ToolType.id).where(ToolType.code == "drill")).one()


def is_retired(app: Flask, model: type[Space] | type[ToolType], row_id: int) -> bool:
    with app.app_context(), database().read() as session:
        return session.get_one(model, row_id).retired_at is not None


def audited(app: Flask, action: str) -> list[str]:
    with app.app_context(), database().read() as session:
        return list(session.scalars(select(AuditEntry.subject).where(AuditEntry.action == action)))


def retired_section(page: str) -> str:
    assert 'id="retired"' in page, "no retired section on the page"
    return page[page.index('id="retired"') :]


def test_a_retired_space_is_listed_under_retired_and_restoring_it_offers_it_again(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    dance = space_id(app, "dance")
    assert 'id="retired"' not in client.get("/staff/admin/spaces").get_data(as_text=True)
    post(client, admin, f"/staff/admin/spaces/{dance}/retire")
    listed = retired_section(client.get("/staff/admin/spaces").get_data(as_text=True))
    assert f"/staff/admin/spaces/{dance}/restore" in listed
    assert "Restore 舞蹈室" in listed

    response = post(client, admin, f"/staff/admin/spaces/{dance}/restore")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/admin/spaces/{dance}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Restored. It is offered at the kiosk again" in page
    assert "Retire this space</button>" in page
    assert not is_retired(app, Space, dance)
    assert audited(app, "admin.space_restored") == [f"space:{dance}"]
    with app.app_context(), database().read() as session:
        from kiosk.touch.spaces.rooms import activity_rooms

        site = session.scalars(select(Site)).first()
        assert site is not None
        assert dance in [room.id for room in activity_rooms(session, site.id)]


def test_a_retired_space_can_be_restored_from_its_own_page(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    dance = space_id(app, "dance")
    post(client, admin, f"/staff/admin/spaces/{dance}/retire")
    page = client.get(f"/staff/admin/spaces/{dance}").get_data(as_text=True)
    assert f'action="/staff/admin/spaces/{dance}/restore"' in page


def test_restoring_without_a_csrf_token_is_refused(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    dance = space_id(app, "dance")
    post(client, admin, f"/staff/admin/spaces/{dance}/retire")
    assert client.post(f"/staff/admin/spaces/{dance}/restore").status_code == 400
    assert is_retired(app, Space, dance)
    assert audited(app, "admin.space_restored") == []


def test_staff_who_are_not_admins_cannot_restore(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    dance = space_id(app, "dance")
    post(client, admin, f"/staff/admin/spaces/{dance}/retire")
    admin.sign_out()
    admin.sign_in()  # zhao, a staff member
    assert post(client, admin, f"/staff/admin/spaces/{dance}/restore").status_code == 403
    assert is_retired(app, Space, dance)


def test_restoring_a_space_in_use_says_so_and_changes_nothing(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    dance = space_id(app, "dance")
    response = post(client, admin, f"/staff/admin/spaces/{dance}/restore")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "It was in use already: nothing changed." in page
    assert audited(app, "admin.space_restored") == []


def test_restoring_an_unknown_space_is_not_found(client: FlaskClient, admin: StaffActions) -> None:
    assert post(client, admin, "/staff/admin/spaces/999999/restore").status_code == 404


def test_a_retired_tool_type_is_listed_under_retired_and_can_be_restored(
    app: Flask, client: FlaskClient, admin: StaffActions
) -> None:
    drill = drill_type(app)
    post(client, admin, f"/staff/admin/tools/{drill}/retire")
    listed = retired_section(client.get("/staff/admin/tools").get_data(as_text=True))
    assert f"/staff/admin/tools/{drill}/restore" in listed
    assert "Restore 电钻" in listed

    response = post(client, admin, f"/staff/admin/tools/{drill}/restore")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Restored." in page
    assert 'id="retired"' not in page
    assert not is_retired(app, ToolType, drill)
    assert audited(app, "admin.tool_type_restored") == [f"tool_type:{drill}"]
    with app.app_context(), database().read() as session:
        from booking.lending import catalogue as lending_catalogue

        site_id = session.scalars(select(Site.id)).first()
        assert site_id is not None
        catalogue = lending_catalogue.catalogue(session, site_id=site_id)
        assert drill in [entry.tool_type.id for entry in catalogue]
