"""The API tests' demo centre, with staff signed in."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.api.api_centre import Ids, demo_ids
from tests.conftest import StaffActions


@pytest.fixture
def ids(app: Flask, demo: None, staff_auth: StaffActions) -> Ids:
    staff_auth.sign_in()
    return demo_ids(app)
