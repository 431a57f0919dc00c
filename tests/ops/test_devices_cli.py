"""`linli devices …`: registration, listing and the Mosquitto files, from the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from devices.fleet import provisioning
from devices.models.device import Device
from kiosk.cli import main
from kiosk.extensions import database


def password_hashes(app: Flask) -> dict[str, str]:
    with app.app_context(), database().read() as session:
        return {d.device_id: d.mqtt_password_hash for d in session.scalars(select(Device))}


def add_device(runner: FlaskCliRunner, device_id: str, kind: str) -> str:
    result = runner.invoke(
        main, args=["devices", "add", "--site", "xinhua", "--id", device_id, "--kind", kind]
    )
    assert result.exit_code == 0, result.output
    return result.output


def printed_password(output: str) -> str:
    found = re.search(r"^password:\s+(\S+)$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def test_adding_a_device_prints_a_password_that_matches_its_stored_hash(
    app: Flask, runner: FlaskCliRunner, demo: None
) -> None:
    result = runner.invoke(
        main, args=["devices", "add", "--site", "xinhua", "--id", "locker-c", "--kind", "locker"]
    )
    assert result.exit_code == 0, result.output
    assert provisioning.verify_mosquitto_hash(
        password_hashes(app)["locker-c"], printed_password(result.output)
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--site", "nowhere", "--id", "locker-c", "--kind", "locker"], "no site 'nowhere'"),
        (["--site", "xinhua", "--id", "Locker C", "--kind", "locker"], "device id must be"),
        (["--site", "xinhua", "--id", "server", "--kind", "locker"], "is reserved"),
        (["--site", "xinhua", "--id", "locker-a", "--kind", "locker"], "already registered"),
        (["--site", "xinhua", "--id", "locker-c", "--kind", "fridge"], "'fridge' is not one of"),
        (["--site", "xinhua", "--id", "locker-c"], "Missing option '--kind'"),
    ],
)
def test_adding_a_device_with_bad_input_says_why_and_changes_nothing(
    app: Flask, runner: FlaskCliRunner, demo: None, args: list[str], message: str
) -> None:
    add_device(runner, "locker-a", "locker")
    before = password_hashes(app)
    result = runner.invoke(main, args=["devices", "add", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert password_hashes(app) == before


def test_listing_devices_shows_each_with_its_site_and_state(
    runner: FlaskCliRunner, demo: None
) -> None:
    add_device(runner, "bp-9", "bp_terminal")
    result = runner.invoke(main, args=["devices", "list"])
    assert result.exit_code == 0
    assert re.search(r"xinhua\s+bp-9\s+bp_terminal\s+offline", result.output)


def test_new_credentials_replace_the_old_password(
    app: Flask, runner: FlaskCliRunner, demo: None
) -> None:
    added = runner.invoke(
        main, args=["devices", "add", "--site", "xinhua", "--id", "locker-c", "--kind", "locker"]
    )
    rotated = runner.invoke(main, args=["devices", "credentials", "--id", "locker-c"])
    assert rotated.exit_code == 0, rotated.output
    stored = password_hashes(app)["locker-c"]
    assert provisioning.verify_mosquitto_hash(stored, printed_password(rotated.output))
    assert not provisioning.verify_mosquitto_hash(stored, printed_password(added.output))


def test_mosquitto_config_writes_the_devices_for_one_listener_and_the_bridge_for_the_other(
    app: Flask, runner: FlaskCliRunner, demo: None, tmp_path: Path
) -> None:
    add_device(runner, "locker-c", "locker")
    out = tmp_path / "mosquitto-files"
    result = runner.invoke(main, args=["devices", "mosquitto-config", "--out", str(out)])
    assert result.exit_code == 0, result.output
    users = [line.split(":", 1)[0] for line in (out / "passwd").read_text().splitlines()]
    assert users == ["locker-c"]
    assert "user locker-c\n" in (out / "acl").read_text()
    assert "linli-server" not in (out / "acl").read_text()
    server_users = (out / "server.passwd").read_text().splitlines()
    assert [line.split(":", 1)[0] for line in server_users] == ["linli-server"]
    assert "locker-c" not in (out / "server.acl").read_text()
    # The bridge password was generated once and is reused, so the files stay stable.
    kept = (Path(app.instance_path) / "mqtt_server_password").read_text()
    server_hash = server_users[0].split(":", 1)[1]
    assert provisioning.verify_mosquitto_hash(server_hash, kept)


def test_mosquitto_config_takes_the_bridge_password_from_the_mqtt_url(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    app.config["MQTT_URL"] = "mqtt://linli-server:from%2Furl@127.0.0.1:1884"
    out = tmp_path / "files"
    assert (
        runner.invoke(main, args=["devices", "mosquitto-config", "--out", str(out)]).exit_code == 0
    )
    server_hash = (out / "server.passwd").read_text().splitlines()[0].split(":", 1)[1]
    assert provisioning.verify_mosquitto_hash(server_hash, "from/url")
