"""``flask quote`` and ``flask sla``: the API's answers on the command line, same JSON."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from portal.api.documents import error_document, quote_document, sla_document
from portal.catalog.current import current_catalog
from portal.clock import now, today_in
from portal.i18n import LOCALES
from portal.plans import PlanError, due_at, parse_quote_request, quote
from portal.plans.requests import parse_sla_request

lang_option = click.option(
    "--lang", type=click.Choice(LOCALES), help="Language of labels (default: the catalog's)."
)


def _print(document: dict) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _fail(error: PlanError) -> None:
    """Exit non-zero with the API's message, in the chosen language."""
    message = error_document(error)["error"]["message"]
    where = f" ({error.field})" if error.field else ""
    raise click.ClickException(f"{message}{where}")


@click.command("quote")
@click.option("--plan", help="Plan code, e.g. optima.")
@click.option("--term", help="1m..12m, budget:YYYY or 1y..3y.")
@click.option("--start", help="First covered day, YYYY-MM-DD (default: today).")
@click.option("--billing", help="monthly, half-year or year, where the plan offers them.")
@click.option("--qty", multiple=True, metavar="UNIT=N", help="Units, e.g. --qty workstation=3.")
@click.option("--licence-value", help="Licence value, for plans priced as a percentage of it.")
@click.option("--previous-plan", help="Plan of the client's previous period.")
@click.option("--previous-end", help="Last day of the previous period, YYYY-MM-DD.")
@click.option("--service", help="Service code instead of a plan, e.g. hours.")
@click.option("--hours", help="Hours of an hourly service.")
@click.option("--quantity", help="Number of a fixed-price service.")
@click.option("--first-time", type=click.Choice(["true", "false"]), help="First use of a service.")
@lang_option
@with_appcontext
def quote_command(qty, lang, **options):
    """Price a plan or a service from the active catalog and print the API's JSON."""
    params = {name: value for name, value in options.items() if value is not None}
    for item in qty:
        unit, sep, number = item.partition("=")
        if not sep:
            raise click.BadParameter(f"'{item}' is not UNIT=N", param_hint="--qty")
        params[f"qty.{unit.strip()}"] = number.strip()
    catalog = current_catalog()
    with force_locale(lang or catalog.locale):
        try:
            today = today_in(catalog.timezone)
            priced = quote(catalog, parse_quote_request(catalog, params, today), today)
        except PlanError as error:
            _fail(error)
        _print(quote_document(priced, catalog))


@click.group("sla", invoke_without_command=True)
@click.option("--plan", help="Plan code.")
@click.option("--target", help="SLA target code, e.g. reaction.")
@click.option("--opened", help="When the request was opened, ISO 8601 with offset (default: now).")
@lang_option
@click.pass_context
@with_appcontext
def sla_command(context, lang, **options):
    """Compute an SLA due time from the active catalog and print the API's JSON; or, with
    a command, run one of the tickets' SLA jobs (``flask sla sweep``)."""
    if context.invoked_subcommand is not None:
        return
    params = {name: value for name, value in options.items() if value is not None}
    catalog = current_catalog()
    with force_locale(lang or catalog.locale):
        try:
            asked = parse_sla_request(catalog, params, now())
            due = due_at(catalog, asked.plan, asked.target, asked.opened)
        except PlanError as error:
            _fail(error)
        _print(sla_document(due, catalog))
