"""`linli site create`: a centre from nothing, on an empty database, by its operator."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from booking.core.models.sites import Site
from kiosk.cli import main
from kiosk.extensions import database

YONGSHENG = [
    "site", "create", "yongsheng", "--name-zh", "永盛社区邻里中心",
    "--name-en", "Yongsheng Neighbourhood Centre", "--address", "永盛路 18 号",
]  # fmt: skip


def sites(app: Flask) -> list[tuple[str, str, str, str]]:
    with app.app_context(), database().read() as session:
        rows = session.execute(select(Site.slug, Site.name_zh, Site.address, Site.timezone))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_site_is_created_on_an_empty_database(app: Flask, runner: FlaskCliRunner) -> None:
    assert sites(app) == []
    result = runner.invoke(main, args=YONGSHENG)
    assert result.exit_code == 0, result.output
    assert "created site yongsheng" in result.output
    assert "LINLI_SITE=yongsheng" in result.output
    assert sites(app) == [("yongsheng", "永盛社区邻里中心", "永盛路 18 号", "Asia/Shanghai")]
    listed = runner.invoke(main, args=["site", "list"])
    assert listed.output.startswith("yongsheng\t永盛社区邻里中心")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Yong Sheng"], "slug must be 2-40 of a-z"),
        (["yong/sheng"], "slug must be 2-40 of a-z"),
        (["y"], "slug must be 2-40 of a-z"),
        (["yongsheng", "--timezone", "Mars/Olympus"], "unknown timezone 'Mars/Olympus'"),
        (["yongsheng", "--timezone", "../etc/passwd"], "unknown timezone"),
        (["yongsheng", "--name-zh", " "], "name_zh must not be empty"),
        (["yongsheng", "--address", "路" * 201], "address must be at most 200 characters"),
    ],
)
def test_a_bad_site_is_refused_with_the_reason_and_nothing_is_made(
    app: Flask, runner: FlaskCliRunner, args: list[str], message: str
) -> None:
    slug, *options = args
    result = runner.invoke(
        main, args=["site", "create", slug, "--name-zh", "永盛", "--name-en", "Yongsheng", *options]
    )
    assert result.exit_code != 0
    assert message in result.output
    assert sites(app) == []


def test_a_slug_in_use_is_refused(app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(main, args=YONGSHENG).exit_code == 0
    again = runner.invoke(main, args=YONGSHENG)
    assert again.exit_code != 0
    assert "site 'yongsheng' already exists" in again.output
    assert len(sites(app)) == 1


def test_the_first_admin_is_created_at_the_new_site_with_a_password_typed_twice_unseen(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(main, args=YONGSHENG).exit_code == 0
    result = runner.invoke(
        main,
        args=["staff", "create", "wangfang", "--name", "王芳", "--role", "admin",
              "--site", "yongsheng"],
        input="a long enough passphrase\na long enough passphrase\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created admin wangfang at yongsheng" in result.output
    assert "a long enough passphrase" not in result.output
