"""``linli staff …``: staff accounts from the command line (the first admin has no console yet)."""

from __future__ import annotations

import functools
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from booking.core import sites
from booking.core.errors import DomainError
from booking.people import staff as staff_service
from booking.people import staff_sites
from booking.people.models.staff import StaffRole
from kiosk.extensions import clock, database


@click.group("staff")
def staff_group() -> None:
    """Staff accounts of the console."""


def _fail(error: DomainError) -> click.ClickException:
    return click.ClickException(error.message)


@staff_group.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Name shown in the console.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in StaffRole]),
    default=StaffRole.STAFF.value,
    show_default=True,
)
@click.option("--site", "site_slug", default=None, help="Site slug [default: the SITE setting].")
@click.password_option(help="Asked for when not given (never put it in shell history).")
@with_appcontext
def create(
    username: str, display_name: str, role: str, site_slug: str | None, password: str
) -> None:
    """Create the account USERNAME."""
    try:
        with database().write() as session:
            site = sites.get_site_by_slug(session, site_slug or current_app.config["SITE"])
            account = staff_service.create_staff(
                session,
                site_id=site.id,
                username=username,
                display_name=display_name,
                password=password,
                role=StaffRole(role),
                now=clock().now(),
            )
            click.echo(f"created {account.role.value} {account.username} at {site.slug}")
    except DomainError as error:
        raise _fail(error) from None


@staff_group.command("disable")
@click.argument("username")
@with_appcontext
def disable(username: str) -> None:
    """Disable USERNAME and end every session it has open."""
    _set_active(username, active=False)


@staff_group.command("enable")
@click.argument("username")
@with_appcontext
def enable(username: str) -> None:
    """Let USERNAME sign in again."""
    _set_active(username, active=True)


def _set_active(username: str, *, active: bool) -> None:
    try:
        with database().write() as session:
            account = staff_service.get_staff_by_username(session, username)
            staff_service.set_active(session, staff_id=account.id, active=active, now=clock().now())
            click.echo(f"{account.username} {'enabled' if active else 'disabled'}")
    except DomainError as error:
        raise _fail(error) from None


@staff_group.command("set-password")
@click.argument("username")
@click.password_option(help="Asked for when not given (never put it in shell history).")
@with_appcontext
def set_password(username: str, password: str) -> None:
    """Set USERNAME's password and end every session it has open."""
    try:
        with database().write() as session:
            account = staff_service.get_staff_by_username(session, username)
            staff_service.reset_password(
                session, staff_id=account.id, new=password, now=clock().now()
            )
            click.echo(f"password of {account.username} set; its sessions are ended")
    except DomainError as error:
        raise _fail(error) from None


@staff_group.command("grant-site")
@click.argument("username")
@click.argument("site_slug", metavar="SLUG")
@click.option(
    "--admin", "as_admin", is_flag=True,
    help="Manage that centre too (its admin there); without it, work there as staff.",
)  # fmt: skip
@with_appcontext
def grant_site(username: str, site_slug: str, as_admin: bool) -> None:
    """Let USERNAME work at the centre SLUG as well as at its home centre (granting again
    with or without --admin changes the role there)."""
    _change_sites(
        username, site_slug, functools.partial(staff_sites.grant_site, as_admin=as_admin),
        "may now manage" if as_admin else "may now work at",
    )  # fmt: skip


@staff_group.command("revoke-site")
@click.argument("username")
@click.argument("site_slug", metavar="SLUG")
@with_appcontext
def revoke_site(username: str, site_slug: str) -> None:
    """Stop USERNAME working at the centre SLUG (its consoles there go home at once)."""
    _change_sites(username, site_slug, staff_sites.revoke_site, "no longer works at")


def _change_sites(username: str, site_slug: str, change: Any, said: str) -> None:
    """Grant or revoke a centre from the command line (the operator: no staff ``by``)."""
    try:
        with database().write() as session:
            account = staff_service.get_staff_by_username(session, username)
            site = sites.get_site_by_slug(session, site_slug)
            change(session, by=None, staff_id=account.id, site_id=site.id, now=clock().now())
            click.echo(f"{account.username} {said} {site.slug}")
    except DomainError as error:
        raise _fail(error) from None
