"""``flask demo load``: fill an empty portal with a believable office to try it with."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from portal.catalog.current import current_catalog
from portal.clock import today_in
from portal.demo import services
from portal.extensions import db

demo_cli = click.Group("demo", help="Demo data for trying the portal.")


@demo_cli.command("load")
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON, for scripts.")
@with_appcontext
def load(as_json: bool) -> None:
    """Fill an empty database with clients, orders, invoices, periods and staff accounts
    for the active catalog, and print the accounts with their password."""
    catalog = current_catalog()
    try:
        accounts = services.load(db.session, catalog, today_in(catalog.timezone))
    except services.DemoRefused as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps([a.as_dict() for a in accounts], ensure_ascii=False, indent=2))
        return
    click.echo(
        f"Demo office for the {catalog.code} catalog. Password of every account: "
        f"{accounts[0].password}"
    )
    for account in accounts:
        what = account.role
        if account.organization:
            what += f", {account.organization}"
        if account.period:
            what += f": {account.plan} {account.period}"
        click.echo(f"  {account.email}  ({what})")
