"""WTForms' own messages speak the console's language, from a catalogue read once a language."""

from __future__ import annotations

import pytest
from babel import support
from flask.testing import FlaskClient

from kiosk import i18n
from tests.conftest import StaffActions

pytestmark = pytest.mark.usefixtures("demo")


def test_a_choice_the_form_does_not_offer_is_refused_in_chinese_then_in_english(
    client: FlaskClient, staff_auth: StaffActions
) -> None:
    assert staff_auth.sign_in().status_code == 302
    chinese = client.get("/staff/lending", query_string={"status": "stolen"})
    assert chinese.status_code == 400
    assert "不是有效的选择" in chinese.get_data(as_text=True)

    client.post("/staff/language", data={"locale": "en", "csrf_token": staff_auth.csrf_token()})
    english = client.get("/staff/lending", query_string={"status": "stolen"})
    assert english.status_code == 400
    assert "Not a valid choice" in english.get_data(as_text=True)


def test_the_catalogue_is_read_once_a_language_not_once_a_request(
    client: FlaskClient, staff_auth: StaffActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "_WTFORMS_CATALOGUES", {})
    loads: list[str] = []
    load = support.Translations.load

    def counted(*args: object, **kwargs: object) -> object:
        if kwargs.get("domain") == "wtforms":
            loads.append(str(args[1]))
        return load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(support.Translations, "load", counted)
    assert staff_auth.sign_in().status_code == 302
    for _ in range(3):
        assert client.get("/staff/lending", query_string={"status": "stolen"}).status_code == 400
    assert len(loads) == 1
