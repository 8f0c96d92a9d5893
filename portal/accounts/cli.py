"""``flask users create|list|token``: staff accounts, and API tokens for scripts."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.accounts import services
from portal.api import auth as api_tokens
from portal.audit import Actor
from portal.clock import now
from portal.extensions import db

users_cli = click.Group("users", help="Create and list staff accounts; make API tokens.")


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
            db.session,
            email=email,
            name=name,
            password=password,
            role=role,
            now=now(),
            actor=Actor.command_line(),
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


@users_cli.command("token")
@click.argument("email")
@click.option(
    "--name",
    default="Command line",
    show_default=True,
    help="What the token is for, as its user's token list shows it.",
)
@with_appcontext
def token(email: str, name: str) -> None:
    """Make a personal API token for EMAIL's account and print it (the token alone, on
    standard output, so a script can read it); it is not shown again."""
    user = services.find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"{email.strip()}: no account has this e-mail address")
    if not user.active:
        raise click.ClickException(f"{user.email}: the account is deactivated")
    if services.awaits_confirmation(user):
        raise click.ClickException(f"{user.email}: the address is not confirmed yet")
    try:
        made = api_tokens.create_token(db.session, user, name, now())
    except api_tokens.TokenRefused as refused:
        raise click.ClickException(f"--name: {refused.code.replace('_', ' ')}") from None
    click.echo(
        f'{user.email}: token {made.row.prefix}… made ("{made.row.name}"); it is not shown again',
        err=True,
    )
    click.echo(made.secret)
