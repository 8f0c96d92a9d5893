"""``flask translate init|update|compile``: keep the message catalogs in step with the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
TEMPLATE = TRANSLATIONS / "messages.pot"
# PlanError's second argument is its English message, translated at the edge.
KEYWORDS = ("-k", "_l", "-k", "lazy_gettext", "-k", "PlanError:2")

translate_cli = click.Group("translate", help="Extract, update and compile translations.")


def _pybabel(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=ROOT)
    if result.returncode:
        raise click.ClickException(f"pybabel {args[0]} failed")


def _extract() -> None:
    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        *KEYWORDS,
        "--no-location",
        "--sort-output",
        "--project",
        "support-portal",
        "-o",
        str(TEMPLATE),
        ".",
    )


@translate_cli.command("init")
@click.argument("language")
def init(language: str) -> None:
    """Start the catalog of a new LANGUAGE."""
    _extract()
    _pybabel("init", "-i", str(TEMPLATE), "-d", str(TRANSLATIONS), "-l", language)


@translate_cli.command("update")
def update() -> None:
    """Extract messages and merge them into every language's catalog."""
    _extract()
    _pybabel(
        "update",
        "-i",
        str(TEMPLATE),
        "-d",
        str(TRANSLATIONS),
        "--no-fuzzy-matching",
        "--ignore-obsolete",
    )


@translate_cli.command("compile")
def compile_() -> None:
    """Check every catalog compiles (the portal compiles them into instance/ on start)."""
    _pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")
