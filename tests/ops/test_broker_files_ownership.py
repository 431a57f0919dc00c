"""Regenerating the broker's files keeps the group Mosquitto reads them by, as an operator
following docs/operations.md does it: add, chgrp once, replace a password, regenerate."""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from kiosk import mqtt_config
from kiosk.cli import main

FILES = ("passwd", "acl", "server.passwd", "server.acl")


def other_group() -> int:
    """A group other than ours that we may give files: Mosquitto's where it exists."""
    if os.geteuid() != 0:
        mine = [g for g in os.getgroups() if g != os.getegid()]
        if not mine:
            pytest.skip("needs root or a second group to give files a group of their own")
        return mine[0]
    try:
        return grp.getgrnam("mosquitto").gr_gid
    except KeyError:
        return 4242


def run(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(main, args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def group_and_mode(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_gid, stat.S_IMODE(found.st_mode)


def test_regenerated_files_keep_the_group_and_mode_mosquitto_reads_them_by(
    app: Flask, runner: FlaskCliRunner, demo: None, tmp_path: Path
) -> None:
    out = tmp_path / "linli"
    run(runner, "devices", "add", "--site", "xinhua", "--id", "locker-c", "--kind", "locker")
    run(runner, "devices", "mosquitto-config", "--out", str(out))
    mosquitto = other_group()
    for name in FILES:  # `chgrp mosquitto /etc/mosquitto/linli/*`, and one made stricter
        os.chown(out / name, -1, mosquitto)
    os.chmod(out / "server.passwd", 0o440)
    before = (out / "passwd").read_text()

    run(runner, "devices", "credentials", "--id", "locker-c")
    run(runner, "devices", "mosquitto-config", "--out", str(out))

    assert (out / "passwd").read_text() != before  # the new password is in
    assert {name: group_and_mode(out / name) for name in FILES} == {
        "passwd": (mosquitto, 0o640),
        "acl": (mosquitto, 0o640),
        "server.passwd": (mosquitto, 0o440),
        "server.acl": (mosquitto, 0o640),
    }
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)  # no partial files left


def test_new_files_take_the_group_of_their_directory(
    app: Flask, runner: FlaskCliRunner, demo: None, tmp_path: Path
) -> None:
    out = tmp_path / "linli"
    out.mkdir()
    mosquitto = other_group()
    os.chown(out, -1, mosquitto)  # `install -d -g mosquitto /etc/mosquitto/linli`
    run(runner, "devices", "mosquitto-config", "--out", str(out))
    assert {group_and_mode(out / name) for name in FILES} == {(mosquitto, 0o640)}


def test_when_the_group_cannot_be_kept_every_old_file_stays_and_the_operator_is_told(
    app: Flask,
    runner: FlaskCliRunner,
    demo: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "linli"
    run(runner, "devices", "mosquitto-config", "--out", str(out))
    mosquitto = other_group()
    for name in FILES:
        os.chown(out / name, -1, mosquitto)
    kept = {name: (out / name).read_text() for name in FILES}
    run(runner, "devices", "add", "--site", "xinhua", "--id", "locker-c", "--kind", "locker")

    def refused(fd: int, uid: int, gid: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    # As an operator who is not root and not in the mosquitto group.
    monkeypatch.setattr(mqtt_config.os, "fchown", refused)
    result = runner.invoke(main, args=["devices", "mosquitto-config", "--out", str(out)])
    assert result.exit_code == 1
    assert "Error: cannot give the new passwd the group" in result.output
    assert "run this as root or as a member of that group" in result.output
    assert {name: (out / name).read_text() for name in FILES} == kept
    assert {group_and_mode(out / name)[0] for name in FILES} == {mosquitto}
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
