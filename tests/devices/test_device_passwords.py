"""The broker passwords issued to devices (devices/fleet/provisioning.py)."""

from __future__ import annotations

import secrets

import pytest

from devices.fleet import provisioning


def test_an_issued_password_never_begins_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # The device sheet prints `linli-sim locker … --password PASSWORD`: a password beginning
    # with "-" reads there as another option, and the simulator refuses the command.
    drawn = iter(["-first", "-second", "Third-ok"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(drawn))
    assert provisioning.generate_password() == "Third-ok"


def test_an_issued_password_is_long_and_url_safe() -> None:
    for _ in range(200):
        password = provisioning.generate_password()
        assert len(password) >= 32
        assert not password.startswith("-")
        assert set(password) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )
