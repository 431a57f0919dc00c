"""``linli site …``: make a centre from nothing (the first step of docs/operations.md,
"First day"); everything after the first admin is done in the console."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from booking.core import sites
from booking.core.errors import DomainError
from kiosk.extensions import database


@click.group("site")
def site_group() -> None:
    """Centres (sites) of this deployment."""


@site_group.command("create")
@click.argument("slug")
@click.option("--name-zh", required=True, help="The centre's Chinese name, e.g. 永盛社区邻里中心.")
@click.option("--name-en", required=True, help="Its English name.")
@click.option("--address", default="", help="Postal address, printed on slips and sheets.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@with_appcontext
def create(slug: str, name_zh: str, name_en: str, address: str, timezone: str) -> None:
    """Create the site SLUG (lowercase; part of every device topic, so it never changes)."""
    try:
        with database().write() as session:
            site = sites.create_site(
                session,
                slug=slug,
                name_zh=name_zh,
                name_en=name_en,
                address=address,
                timezone=timezone,
            )
            click.echo(f"created site {site.slug} ({site.name_zh} / {site.name_en})")
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(
        f"Next: set LINLI_SITE={slug} for the web app and the worker, then "
        f"`linli staff create USERNAME --name NAME --role admin --site {slug}`."
    )


@site_group.command("list")
@with_appcontext
def list_sites() -> None:
    """Every site: slug, names and timezone."""
    with database().read() as session:
        for site in sites.all_sites(session):
            click.echo(f"{site.slug}\t{site.name_zh}\t{site.name_en}\t{site.timezone}")
