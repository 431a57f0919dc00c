"""The `linli` command: database, demo data and (from later modules) the worker and devices."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from kiosk import create_app, extensions


def _create_app() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Linli (邻里): run and manage a neighbourhood service centre."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from kiosk import migrate

    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {migrate.current(current_app.config['DATABASE_URL'])}")


@main.command("seed-demo")
def seed_demo() -> None:
    """Create the demo centre (idempotent) and print its logins."""
    from booking.demo import centre as demo_centre

    with extensions.database().write() as session:
        logins = demo_centre.seed(session, now=extensions.clock().now())
    for login in logins:
        click.echo(f"{login.who}: {login.login} / {login.secret}")


def _add_operations_commands() -> None:
    # Kept in their own module so that this file stays a list of command groups.
    from kiosk.ops_cli import demo_command, devices_group, worker_command

    main.add_command(devices_group)
    main.add_command(worker_command)
    main.add_command(demo_command)


_add_operations_commands()


def _add_staff_commands() -> None:
    from kiosk.site_cli import site_group
    from kiosk.staff.cli import staff_group

    main.add_command(site_group)
    main.add_command(staff_group)


_add_staff_commands()


def _add_developer_commands() -> None:
    from kiosk.i18n_catalogue import i18n_group

    main.add_command(i18n_group)


_add_developer_commands()
