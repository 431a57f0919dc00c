"""The app's JSON answers say what Flask's own encoder said, in fewer of the CPU's cycles
(kiosk/json_provider.py): the same values, keys in order, a date as an HTTP date, a lazy
translation as its text, and nothing that Flask could write refused."""

from __future__ import annotations

import dataclasses
import decimal
import enum
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_babel import lazy_gettext

from tests.conftest import StaffActions


class Colour(enum.StrEnum):
    RED = "red"


@dataclasses.dataclass
class Seat:
    number: int
    free: bool


VALUES: dict[str, Any] = {
    "Chinese text": {"name": "永盛社区", "note": "书法室"},
    "a date and a moment": {"day": date(2026, 12, 6), "at": datetime(2026, 12, 6, 8, tzinfo=UTC)},
    "a decimal and a uuid": [decimal.Decimal("1.50"), uuid.UUID(int=7)],
    "an enum and a dataclass": {"colour": Colour.RED, "seat": Seat(3, True)},
    "number keys": {2: "b", 1: "a"},
    "an integer beyond 64 bits": {"big": 2**70},
    "nesting": {"z": [{"b": 1, "a": [None, 1.5, True]}], "a": {}},
}


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_an_answer_reads_as_flask_s_own_encoder_wrote_it(app: Flask, value: Any) -> None:
    flask_own = DefaultJSONProvider(app)
    with app.test_request_context():
        ours = app.json.response(value)
        theirs = flask_own.response(value)
    assert ours.mimetype == "application/json"
    assert ours.get_data().endswith(b"\n")
    assert json.loads(ours.get_data()) == json.loads(theirs.get_data())
    assert json.loads(app.json.dumps(value)) == json.loads(flask_own.dumps(value))


def test_keys_come_sorted_and_chinese_comes_as_utf8(app: Flask) -> None:
    with app.test_request_context():
        body = app.json.response({"b": "书法", "a": 1}).get_data()
    assert body == '{"a":1,"b":"书法"}\n'.encode()


def test_a_lazy_translation_is_written_as_its_text(app: Flask) -> None:
    with app.test_request_context():
        word = lazy_gettext("Cancel")
        assert json.loads(app.json.dumps({"word": word})) == {"word": str(word)} == {"word": "取消"}


def test_options_asked_for_by_name_are_the_standard_library_s(app: Flask) -> None:
    assert app.json.dumps({"b": 1, "a": "书"}, indent=2, ensure_ascii=True) == (
        '{\n  "a": "\\u4e66",\n  "b": 1\n}'
    )


def test_what_no_encoder_can_write_is_still_refused(app: Flask) -> None:
    with pytest.raises(TypeError):
        app.json.dumps({"a": object()})


def test_the_api_answers_through_it(client: Any, staff_auth: StaffActions, demo: None) -> None:
    staff_auth.sign_in()
    answer = client.get("/api/v1/lending/tools")
    assert answer.status_code == 200 and answer.data.endswith(b"\n")
    # The centre's tools are named in Chinese: written as UTF-8, not escaped as Flask's was.
    assert b"\\u" not in answer.data
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.data.decode())
