"""``flask catalog``: check catalog files, publish versions, list what is published."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from portal.audit import Actor
from portal.catalog import services
from portal.clock import now
from portal.extensions import db
from portal.plans import CatalogError, load_catalog
from portal.plans.loading import bundled_catalog_names, bundled_catalog_path, read_catalog_source

catalog_cli = click.Group("catalog", help="Check, publish and list catalog versions.")


@catalog_cli.command("check")
@click.argument("name_or_path")
def check(name_or_path: str) -> None:
    """Validate a bundled catalog or a catalog file without publishing it."""
    try:
        catalog = load_catalog(name_or_path)
    except CatalogError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{catalog.code}: {len(catalog.plans)} plans, {len(catalog.services)} services: OK")


@catalog_cli.command("publish")
@click.argument("name_or_path")
@with_appcontext
def publish(name_or_path: str) -> None:
    """Publish a bundled catalog or a catalog file as the next version of its catalog."""
    path = bundled_catalog_path(name_or_path)
    try:
        source, files = read_catalog_source(Path(path))
        row = services.publish(
            db.session, source, path.name, now(), files, actor=Actor.command_line()
        )
    except CatalogError as error:
        raise click.ClickException(str(error)) from None
    except services.TooEarly as early:
        raise click.ClickException(
            f"a version scheduled for {early.after.isoformat()} is not in effect yet: "
            "publish from the admin area's draft, from that day or later"
        ) from None
    click.echo(f"{row.name} version {row.version} ({row.checksum[:12]}) is the newest")


@catalog_cli.command("versions")
@click.argument("name", required=False)
@with_appcontext
def list_versions(name: str | None) -> None:
    """List published versions, of one catalog or of all."""
    rows = services.versions(db.session, name)
    if not rows:
        click.echo("No catalog is published yet; the active one is imported on first use.")
    for row in rows:
        click.echo(
            f"{row.name}\tv{row.version}\t{row.published_at:%Y-%m-%d %H:%M %Z}\t{row.origin}"
        )


@catalog_cli.command("bundled")
def bundled() -> None:
    """List the catalogs shipped with the portal."""
    for name in bundled_catalog_names():
        click.echo(name)
