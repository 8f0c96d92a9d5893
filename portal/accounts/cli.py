"""``flask users create|list``: staff accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.accounts import services
from portal.clock import now
from portal.extensions import db

users_cli = click.Group("users", help="Create and list staff accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name, as shown to colleagues.")
@click.option(
    "--role",
    type=click.Choice(["staff", "admin"]),
    default="staff",
    show_default=True,
    help="Staff handle call-back requests; admins also manage the portal.",
)
@with_appcontext
def create(email: str, name: str, role: str) -> None:
    """Create a staff account for EMAIL; asks for the password twice, without echo."""
    # A prompt, never an option: a password on the command line stays in the shell history.
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(
            db.session, email=email, name=name, password=password, role=role, now=now()
        )
    except services.AccountError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{user.email}: {user.role} account created")


@users_cli.command("list")
@with_appcontext
def list_() -> None:
    """Every account: e-mail, role, name, and whether it can sign in."""
    for user in services.users(db.session):
        state = "active" if user.active else "inactive"
        click.echo(f"{user.email}\t{user.role}\t{user.name}\t{state}")
